using Microsoft.Extensions.Hosting;

namespace Cluster.Client;

/// <summary>
/// The connection's host lifetime: none of its own. The console's, the default, takes over SIGINT and SIGTERM: a
/// process holding a connection would no longer end on them, and the connection would stop under an application whose
/// own host is still shutting down gracefully. The connection stops when it is disposed.
/// </summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
