namespace Cluster.Silo.Hosting;

/// <summary>
/// How long an idle thread-pool thread of the silo spins for work before it sleeps: 10 rounds of the pool's semaphore, where .NET's
/// default is 70. The short spin still catches the hand-offs within a request (socket, messaging, the replica's turn); the long one
/// goes on yielding the core back and forth among idle threads for as long again, which on a small node takes the cores from the
/// model's run and the callers. Set in the silo's runtimeconfig (<c>Cluster.Silo.csproj</c>), so every way of starting the silo has
/// it; <see cref="Variable"/> in the environment overrides it.
/// </summary>
public static class ThreadPoolSpin
{
    /// <summary>The runtimeconfig setting.</summary>
    public const string Setting = "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit";

    /// <summary>The environment variable that overrides the runtimeconfig setting.</summary>
    public const string Variable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    /// <summary>The silo's spin limit, as its runtimeconfig holds it.</summary>
    public const string Recommended = "10";

    /// <summary>The limit this process runs with, and where it comes from.</summary>
    public static string Effective =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } fromEnvironment ? $"{Variable}={fromEnvironment}"
        : AppContext.GetData(Setting) is { } configured ? $"{configured} (runtimeconfig)"
        : ".NET's default (70)";
}
