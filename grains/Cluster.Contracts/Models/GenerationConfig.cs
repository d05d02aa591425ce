namespace Cluster.Contracts.Models;

/// <summary>
/// Serves a decoder in Hugging Face Optimum's ONNX layout as a text-generation model: text in, a stream
/// of tokens out, from a continuous-batching engine with its own KV cache. Read from the <c>generation</c>
/// object of the model's <c>config.json</c>; fields left out come from the version folder's own
/// <c>config.json</c> / <c>generation_config.json</c> (Hugging Face's) or the defaults below.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record GenerationConfig
{
    /// <summary>A built-in tokenizer (<c>gpt2</c>), or empty to read <c>tokenizer.json</c> or <c>vocab.json</c> + <c>merges.txt</c> from the version
    /// folder.</summary>
    [Id(0)] public string Tokenizer { get; init; } = "";

    /// <summary>Token ids that end a sequence; empty takes <c>eos_token_id</c> from the version folder's Hugging Face config.</summary>
    [Id(1)] public int[] EosTokenIds { get; init; } = [];

    /// <summary>Most tokens (prompt plus generated) per sequence; 0 takes <c>max_position_embeddings</c>, else 2048.</summary>
    [Id(2)] public int ContextLength { get; init; }

    /// <summary>Tokens generated when a request does not say.</summary>
    [Id(3)] public int MaxTokens { get; init; } = 64;

    /// <summary>Default sampling temperature (0 is greedy).</summary>
    [Id(4)] public float Temperature { get; init; } = 1f;

    /// <summary>Default nucleus sampling mass (1 is off).</summary>
    [Id(5)] public float TopP { get; init; } = 1f;

    /// <summary>Default top-k (0 is off).</summary>
    [Id(6)] public int TopK { get; init; }

    /// <summary>Bytes of KV cache per replica; 0 takes <see cref="KvCacheFraction"/> of the device's memory.</summary>
    [Id(7)] public long KvCacheBytes { get; init; }

    /// <summary>Share of the device's memory the KV cache takes when <see cref="KvCacheBytes"/> is 0.</summary>
    [Id(8)] public double KvCacheFraction { get; init; } = 0.1;

    /// <summary>Most sequences in one step.</summary>
    [Id(9)] public int MaxRunningSequences { get; init; } = 64;

    /// <summary>Most tokens fed in one step (decode tokens plus prefill chunks).</summary>
    [Id(10)] public int MaxStepTokens { get; init; } = 256;

    /// <summary>Most requests waiting for a place in the batch; more are refused as RESOURCE_EXHAUSTED.</summary>
    [Id(11)] public int MaxWaiting { get; init; } = 1024;

    /// <summary>How long a request may wait for KV cache before it is refused as RESOURCE_EXHAUSTED.</summary>
    [Id(12)] public int MaxWaitMilliseconds { get; init; } = 30_000;

    /// <summary>Tokens per KV-cache block (the unit of admission).</summary>
    [Id(13)] public int BlockTokens { get; init; } = 16;

    /// <summary>Whether the replica keeps the KV cache of recent prompts' full blocks and skips recomputing a prompt's cached prefix.</summary>
    [Id(14)] public bool PrefixCaching { get; init; } = true;

    /// <summary>
    /// How chat messages become a prompt: <c>chatml</c>, <c>llama3</c> or <c>plain</c>; empty reads the version folder's
    /// chat template (<c>tokenizer_config.json</c> <c>chat_template</c> or <c>chat_template.jinja</c>) and takes <c>plain</c> when it has none.
    /// </summary>
    [Id(15)] public string ChatTemplate { get; init; } = "";
}
