namespace Cluster.Benchmarks;

/// <summary>
/// The .NET runtime setting a silo is deployed with (its launch settings, the container images, <c>deploy/local/fleet.sh</c>): a 64 MiB
/// gen0 budget per garbage-collector heap. The benchmarks give it to every silo process they start and to the hand-written peer, so that
/// both serve under the same collector.
/// </summary>
public static class ServingRuntime
{
    public const string Gen0SizeVariable = "DOTNET_GCgen0size";

    public const string Gen0Size = "0x4000000";
}
