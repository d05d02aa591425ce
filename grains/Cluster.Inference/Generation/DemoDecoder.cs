using Cluster.Inference.Onnx;
using Cluster.Inference.Onnx.Proto;
using Google.Protobuf;
using DataType = Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType;
using W = Cluster.Inference.Generation.DemoDecoderWeights;

namespace Cluster.Inference.Generation;

/// <summary>
/// <c>tiny_gpt</c>: a small GPT-2-style decoder over GPT-2's BPE vocabulary, in Hugging Face Optimum's
/// decoder-with-past layout (<c>input_ids</c>, <c>attention_mask</c>, <c>position_ids</c>,
/// <c>past_key_values.{i}.key|value</c> in; <c>logits</c>, <c>present.{i}.key|value</c> out, FP32).
/// Two pre-LayerNorm blocks of grouped-query attention (4 query heads over 2 KV heads of 16) and a GELU
/// MLP, with the lm_head tied to the token embedding. Its weights are random, so its text is nonsense,
/// but it is deterministic and small enough to build at startup (the file is too large to commit).
/// </summary>
/// <remarks>
/// Query <c>s</c> of a row sits at key column <c>P + s</c> (P = past length) and attends to column
/// <c>j</c> iff <c>j ≤ P + s</c> and <c>attention_mask[b, j] == 1</c>; masked scores get a large finite
/// negative, so a fully masked (padding) row yields finite values, never NaN. That lets a batch left-pad
/// the past and right-pad the new tokens of rows of unequal length. Positions come from
/// <c>position_ids</c>, not from column indices.
/// </remarks>
public static class DemoDecoder
{
    /// <summary>The model's name in the repository.</summary>
    public const string Name = "tiny_gpt";

    /// <summary>The model's <c>config.json</c>.</summary>
    public const string ConfigJson =
        """
        {
          "max_batch_size": 0,
          "instance_count": 1,
          "device_kinds": ["cuda", "cpu"],
          "generation": {
            "tokenizer": "gpt2",
            "eos_token_ids": [50256],
            "context_length": 1024,
            "max_tokens": 64,
            "kv_cache_bytes": 33554432,
            "max_running_sequences": 64,
            "max_step_tokens": 256
          }
        }

        """;

    private const string Batch = "batch_size";
    private const string Sequence = "sequence_length";
    private const string Past = "past_sequence_length";
    private const string Total = "past_sequence_length + sequence_length";

    /// <summary>The weights the graph computes with, as float32 (float16-rounded) arrays.</summary>
    public static DemoDecoderWeights Weights(int contextLength = W.Context) => DemoDecoderWeights.Create(contextLength);

    /// <summary>
    /// Writes <c>&lt;root&gt;/tiny_gpt/config.json</c> and <c>&lt;root&gt;/tiny_gpt/1/model.onnx</c>; a
    /// <paramref name="contextLength"/> other than <see cref="DemoDecoderWeights.Context"/> writes a variant with that
    /// many learned positions (the first 1,024 unchanged) and that context in its config (benchmarks of long prompts).
    /// </summary>
    public static void Write(string repositoryRoot, int contextLength = W.Context)
    {
        var modelDir = Path.Combine(repositoryRoot, Name);
        var versionDir = Path.Combine(modelDir, "1");
        Directory.CreateDirectory(versionDir);
        File.WriteAllText(Path.Combine(modelDir, "config.json"),
            ConfigJson.Replace($"\"context_length\": {W.Context}", $"\"context_length\": {contextLength}", StringComparison.Ordinal));

        // A repository scan running meanwhile must never load half a file: write aside, then rename.
        var target = Path.Combine(versionDir, "model.onnx");
        var temporary = Path.Combine(versionDir, $".model.onnx.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = File.Create(temporary))
            {
                Build(contextLength).WriteTo(stream);
            }

            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Writes the model unless its <c>model.onnx</c> is already there; returns whether it wrote.</summary>
    public static bool EnsureWritten(string repositoryRoot)
    {
        if (File.Exists(Path.Combine(repositoryRoot, Name, "1", "model.onnx")))
        {
            return false;
        }

        Write(repositoryRoot);
        return true;
    }

    /// <summary>Builds the ONNX graph with <paramref name="contextLength"/> learned positions; the same bytes on every call.</summary>
    public static ModelProto Build(int contextLength = W.Context)
    {
        var weights = Weights(contextLength);
        var g = new OnnxGraphBuilder(Name)
            .Input("input_ids", DataType.Int64, -1, -1)
            .Input("attention_mask", DataType.Int64, -1, -1)
            .Input("position_ids", DataType.Int64, -1, -1);
        for (var i = 0; i < W.LayerCount; i++)
        {
            g.Input($"past_key_values.{i}.key", DataType.Float, -1, W.KvHeads, -1, W.HeadSize)
                .Input($"past_key_values.{i}.value", DataType.Float, -1, W.KvHeads, -1, W.HeadSize);
        }

        g.Output("logits", DataType.Float, -1, -1, W.Vocabulary);
        for (var i = 0; i < W.LayerCount; i++)
        {
            g.Output($"present.{i}.key", DataType.Float, -1, W.KvHeads, -1, W.HeadSize)
                .Output($"present.{i}.value", DataType.Float, -1, W.KvHeads, -1, W.HeadSize);
        }

        Constants(g);
        Fp16(g, "wte", weights.TokenEmbedding, W.Vocabulary, W.Model);
        Fp16(g, "wpe", weights.PositionEmbedding, contextLength, W.Model);
        g.Node("Gather", ["wte", "input_ids"], ["tok_emb"])
            .Node("Gather", ["wpe", "position_ids"], ["pos_emb"])
            .Node("Add", ["tok_emb", "pos_emb"], ["h_in"]);
        MaskBias(g);

        var hidden = "h_in";
        for (var i = 0; i < W.LayerCount; i++)
        {
            hidden = Block(g, i, weights.Layers[i], hidden);
        }

        Fp16(g, "ln_f_g", weights.FinalGamma, W.Model);
        Fp16(g, "ln_f_b", weights.FinalBeta, W.Model);
        g.Node("LayerNormalization", [hidden, "ln_f_g", "ln_f_b"], ["h_final"], ("axis", -1L), ("epsilon", W.Epsilon))
            .Node("Transpose", ["wte"], ["wte_t"], ("perm", new long[] { 1, 0 }))
            .Node("MatMul", ["h_final", "wte_t"], ["logits_raw"])
            .Node("Mul", ["logits_raw", "logit_scale"], ["logits"]);

        var model = g.Build("A 2-block GPT-2-style decoder with grouped-query attention (random weights, GPT-2 vocabulary), Optimum decoder-with-past layout.");
        NameDynamicAxes(model.Graph);
        return model;
    }

    private static void Constants(OnnxGraphBuilder g) =>
        g.Initializer("zero_f", [0f])
            .Initializer("masked_f", [W.MaskedScore])
            .Initializer("one_i64", [1L])
            .Initializer("zero_i64_scalar", [0L], [])
            .Initializer("one_i64_scalar", [1L], [])
            .Initializer("score_scale", [1f / MathF.Sqrt(W.HeadSize)])
            .Initializer("half_f", [0.5f])
            .Initializer("one_f", [1f])
            .Initializer("inv_sqrt2", [1f / MathF.Sqrt(2f)])
            .Initializer("logit_scale", [W.LogitScale])
            .Initializer("q_shape", [0L, 0L, W.KvHeads, W.Heads / W.KvHeads, W.HeadSize], 5)
            .Initializer("kv_shape", [0L, 0L, W.KvHeads, W.HeadSize], 4)
            .Initializer("merge_shape", [0L, 0L, W.Model], 3)
            .Initializer("axes_2", [2L], 1)
            .Initializer("axes_1_2_3", [1L, 2L, 3L], 3)
            .Initializer("axes_1", [1L], 1);

    // bias [B, 1, 1, S, T]: 0 where query s (key column P + s) may see key column j, else MaskedScore.
    private static void MaskBias(OnnxGraphBuilder g) =>
        g.Node("Shape", ["input_ids"], ["ids_shape"])
            .Node("Gather", ["ids_shape", "one_i64_scalar"], ["seq_len"], ("axis", 0L))
            .Node("Shape", ["attention_mask"], ["mask_shape"])
            .Node("Gather", ["mask_shape", "one_i64_scalar"], ["total_len"], ("axis", 0L))
            .Node("Sub", ["total_len", "seq_len"], ["past_len"])
            .Node("Range", ["past_len", "total_len", "one_i64_scalar"], ["query_cols"])
            .Node("Range", ["zero_i64_scalar", "total_len", "one_i64_scalar"], ["key_cols"])
            .Node("Unsqueeze", ["query_cols", "axes_1"], ["query_cols_2d"])
            .Node("LessOrEqual", ["key_cols", "query_cols_2d"], ["causal"])
            .Node("Equal", ["attention_mask", "one_i64"], ["mask_keep"])
            .Node("Unsqueeze", ["mask_keep", "axes_1_2_3"], ["mask_keep_5d"])
            .Node("And", ["causal", "mask_keep_5d"], ["allowed"])
            .Node("Where", ["allowed", "zero_f", "masked_f"], ["mask_bias"]);

    private static string Block(OnnxGraphBuilder g, int i, DemoDecoderLayer w, string input)
    {
        string P(string name) => $"l{i}_{name}";
        Fp16(g, P("ln1_g"), w.Ln1Gamma, W.Model);
        Fp16(g, P("ln1_b"), w.Ln1Beta, W.Model);
        Fp16(g, P("wq"), w.Wq, W.Model, W.Model);
        Fp16(g, P("bq"), w.Bq, W.Model);
        Fp16(g, P("wk"), w.Wk, W.Model, W.KvHeads * W.HeadSize);
        Fp16(g, P("bk"), w.Bk, W.KvHeads * W.HeadSize);
        Fp16(g, P("wv"), w.Wv, W.Model, W.KvHeads * W.HeadSize);
        Fp16(g, P("bv"), w.Bv, W.KvHeads * W.HeadSize);
        Fp16(g, P("wo"), w.Wo, W.Model, W.Model);
        Fp16(g, P("bo"), w.Bo, W.Model);
        Fp16(g, P("ln2_g"), w.Ln2Gamma, W.Model);
        Fp16(g, P("ln2_b"), w.Ln2Beta, W.Model);
        Fp16(g, P("w1"), w.W1, W.Model, W.FeedForward);
        Fp16(g, P("b1"), w.B1, W.FeedForward);
        Fp16(g, P("w2"), w.W2, W.FeedForward, W.Model);
        Fp16(g, P("b2"), w.B2, W.Model);

        g.Node("LayerNormalization", [input, P("ln1_g"), P("ln1_b")], [P("x1")], ("axis", -1L), ("epsilon", W.Epsilon));
        Linear(g, P("x1"), P("wq"), P("bq"), P("q"));
        Linear(g, P("x1"), P("wk"), P("bk"), P("k"));
        Linear(g, P("x1"), P("wv"), P("bv"), P("v"));

        // Q [B,S,64] → [B,kvH,groups,S,D]; query head h = kvHead·groups + group, so it uses KV head h / groups.
        g.Node("Reshape", [P("q"), "q_shape"], [P("q_split")])
            .Node("Transpose", [P("q_split")], [P("q5")], ("perm", new long[] { 0, 2, 3, 1, 4 }))
            .Node("Reshape", [P("k"), "kv_shape"], [P("k_split")])
            .Node("Transpose", [P("k_split")], [P("k_new")], ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("Reshape", [P("v"), "kv_shape"], [P("v_split")])
            .Node("Transpose", [P("v_split")], [P("v_new")], ("perm", new long[] { 0, 2, 1, 3 }))
            .Node("Concat", [$"past_key_values.{i}.key", P("k_new")], [$"present.{i}.key"], ("axis", 2L))
            .Node("Concat", [$"past_key_values.{i}.value", P("v_new")], [$"present.{i}.value"], ("axis", 2L))

            // K, V [B,kvH,T,D] → [B,kvH,1,T,D]: the size-1 axis broadcasts each KV head over its query group.
            .Node("Unsqueeze", [$"present.{i}.key", "axes_2"], [P("k5")])
            .Node("Transpose", [P("k5")], [P("k5_t")], ("perm", new long[] { 0, 1, 2, 4, 3 }))
            .Node("Unsqueeze", [$"present.{i}.value", "axes_2"], [P("v5")])
            .Node("MatMul", [P("q5"), P("k5_t")], [P("scores_raw")])
            .Node("Mul", [P("scores_raw"), "score_scale"], [P("scores_scaled")])
            .Node("Add", [P("scores_scaled"), "mask_bias"], [P("scores")])
            .Node("Softmax", [P("scores")], [P("probs")], ("axis", -1L))
            .Node("MatMul", [P("probs"), P("v5")], [P("ctx5")])
            .Node("Transpose", [P("ctx5")], [P("ctx_t")], ("perm", new long[] { 0, 3, 1, 2, 4 }))
            .Node("Reshape", [P("ctx_t"), "merge_shape"], [P("ctx")]);
        Linear(g, P("ctx"), P("wo"), P("bo"), P("attn"));
        g.Node("Add", [input, P("attn")], [P("h_mid")])
            .Node("LayerNormalization", [P("h_mid"), P("ln2_g"), P("ln2_b")], [P("x2")], ("axis", -1L), ("epsilon", W.Epsilon));
        Linear(g, P("x2"), P("w1"), P("b1"), P("up"));

        // Exact GELU, x · ½(1 + erf(x / √2)): opset 17 has no Gelu operator.
        g.Node("Mul", [P("up"), "inv_sqrt2"], [P("up_scaled")])
            .Node("Erf", [P("up_scaled")], [P("erf")])
            .Node("Add", [P("erf"), "one_f"], [P("erf_1")])
            .Node("Mul", [P("erf_1"), "half_f"], [P("gate")])
            .Node("Mul", [P("up"), P("gate")], [P("gelu")]);
        Linear(g, P("gelu"), P("w2"), P("b2"), P("down"));
        g.Node("Add", [P("h_mid"), P("down")], [P("h_out")]);
        return P("h_out");
    }

    private static void Linear(OnnxGraphBuilder g, string x, string w, string b, string output) =>
        g.Node("MatMul", [x, w], [output + "_mm"]).Node("Add", [output + "_mm", b], [output]);

    // Stored as float16 (half the file) and cast once; ONNX Runtime folds the cast at session start.
    private static void Fp16(OnnxGraphBuilder g, string name, float[] values, params long[] dims) =>
        g.Initializer(name + "_fp16", W.ToHalf(values), dims)
            .Node("Cast", [name + "_fp16"], [name], ("to", (long)DataType.Float));

    private static void NameDynamicAxes(GraphProto graph)
    {
        foreach (var value in graph.Input.Concat(graph.Output))
        {
            var dims = value.Type.TensorType.Shape.Dim;
            string?[] names = value.Name switch
            {
                "input_ids" or "position_ids" or "logits" => [Batch, Sequence, null],
                "attention_mask" => [Batch, Total],
                _ when value.Name.StartsWith("past_key_values.", StringComparison.Ordinal) => [Batch, null, Past, null],
                _ => [Batch, null, Total, null],
            };
            for (var d = 0; d < dims.Count; d++)
            {
                if (names[d] is { } dimName)
                {
                    dims[d] = new TensorShapeProto.Types.Dimension { DimParam = dimName };
                }
            }
        }
    }
}
