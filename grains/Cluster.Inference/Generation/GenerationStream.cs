using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Cluster.Inference.Generation;

/// <summary>
/// The caller's end of one generation: its updates in order, the last one carrying the finish reason. An
/// error (deadline, cache never free, replica stopped, model failure) ends the enumeration with its exception.
/// </summary>
public sealed class GenerationStream(ChannelReader<GenerationUpdate> updates, int promptTokens)
{
    /// <summary>Tokens in the prompt.</summary>
    public int PromptTokens { get; } = promptTokens;

    /// <summary>The updates as they are produced.</summary>
    public async IAsyncEnumerable<GenerationUpdate> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await updates.WaitToReadAsync(cancellationToken))
        {
            while (updates.TryRead(out var update))
            {
                yield return update;
            }
        }
    }
}
