using Cluster.Client.Routing;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Generation;
using Orleans.Runtime.Messaging;

namespace Cluster.Client;

/// <summary>
/// One replica's generation stream as the grain-call transport reads it: every next piece races the death of the
/// replica's silo, and a silo declared dead or no longer reachable ends the stream in <see cref="ReplicaLostException"/>
/// (the caller resumes the generation elsewhere) instead of in Orleans' response timeout. A lost stream is disposed
/// in the background: its silo may never answer.
/// </summary>
internal sealed class ReplicaTokenStream(IAsyncEnumerator<GeneratedToken> tokens, string key, string? silo, ReplicaRouter router) : IAsyncDisposable
{
    private bool _lost;

    /// <summary>The piece the last <see cref="MoveNextAsync"/> read.</summary>
    public GeneratedToken Current => tokens.Current;

    /// <summary>Reads the next piece; false at the stream's end. Throws ReplicaLostException when the replica was lost.</summary>
    public async Task<bool> MoveNextAsync()
    {
        var next = tokens.MoveNextAsync().AsTask();
        if (silo is not null
            && await Task.WhenAny(next, router.WhenDead(silo)) != next
            && await Task.WhenAny(next, Task.Delay(OrleansTransport.LostSiloGrace, CancellationToken.None)) != next)
        {
            next.Abandon();
            throw Lost($"its silo '{silo}' was declared dead");
        }

        try
        {
            return await next;
        }
        catch (Exception e) when (e is OrleansMessageRejectionException or EnumerationAbortedException or ConnectionFailedException or TimeoutException)
        {
            throw Lost(e.Message);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (!_lost)
        {
            return tokens.DisposeAsync();
        }

        tokens.DisposeAsync().AsTask().Abandon();
        return ValueTask.CompletedTask;
    }

    private ReplicaLostException Lost(string why)
    {
        _lost = true;
        return new ReplicaLostException($"Replica {key} stopped streaming the generation: {why}.");
    }
}
