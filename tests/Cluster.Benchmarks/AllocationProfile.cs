using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Cluster.Benchmarks;

/// <summary>
/// Where a server process's allocations come from: the runtime's sampled allocation events (one about every 100 KB a thread
/// allocates, with the type and the stack) traced through EventPipe while a load runs, each sample put to the code that made it.
/// </summary>
public static class AllocationProfile
{
    /// <summary>Byte arrays, whoever allocates them: on the inference paths, the tensors' data.</summary>
    public const string ByteArrays = "byte arrays";

    /// <summary>Google.Protobuf and the messages generated from the protocol's proto.</summary>
    public const string Protobuf = "protobuf messages";

    /// <summary>Grpc.AspNetCore's call handling.</summary>
    public const string Grpc = "gRPC call handling";

    /// <summary>Kestrel's HTTP/2 request and ASP.NET Core's pipeline.</summary>
    public const string AspNetCore = "ASP.NET Core and Kestrel";

    /// <summary>The server's own code: the cluster's (and Orleans') in the silo, the hand-written loop in the peer.</summary>
    public const string Server = "the server's own code";

    /// <summary>Anything else (the runtime's own, OpenTelemetry, ONNX Runtime's wrappers).</summary>
    public const string Other = "other";

    // The first frame (from the allocation outwards) in one of these namespaces names the origin; frames of the runtime's
    // own helpers (async builders, collections) are passed over, so a state machine's box belongs to the method that awaits.
    private static readonly (string Prefix, string Origin)[] Origins =
    [
        ("Google.Protobuf.", Protobuf), ("Cluster.Client.Protocol.", Protobuf), ("Grpc.", Grpc), ("Microsoft.AspNetCore.", AspNetCore),
        ("System.IO.Pipelines.", AspNetCore), ("System.Net.", AspNetCore), ("Cluster.", Server), ("Orleans.", Server),
    ];

    /// <summary>
    /// Traces the process with id <paramref name="processId"/> while <paramref name="load"/> runs and returns the sampled bytes per
    /// request by origin, given the requests the load served, and the server's own code's by site (the type allocated and the method
    /// that allocated it).
    /// </summary>
    public static async Task<(Dictionary<string, double> Origins, Dictionary<string, double> ServerSites)> MeasureAsync(int processId,
        Func<Task<long>> load)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cluster-alloc-{processId}-{Environment.TickCount64}.nettrace");
        try
        {
            var provider = new EventPipeProvider(ClrTraceEventParser.ProviderName, EventLevel.Verbose, (long)ClrTraceEventParser.Keywords.GC);
            long requests;
            using (var session = new DiagnosticsClient(processId).StartEventPipeSession([provider], requestRundown: true, circularBufferMB: 256))
            {
                var copy = Task.Run(async () =>
                {
                    await using var file = File.Create(path);
                    await session.EventStream.CopyToAsync(file);
                });
                requests = await load();
                await session.StopAsync(CancellationToken.None);
                await copy;
            }

            return Classify(path, Math.Max(1, requests));
        }
        finally
        {
            foreach (var file in new[] { path, Path.ChangeExtension(path, ".etlx") })
            {
                File.Delete(file);
            }
        }
    }

    private static (Dictionary<string, double> Origins, Dictionary<string, double> ServerSites) Classify(string path, long requests)
    {
        var origins = new Dictionary<string, double>();
        var sites = new Dictionary<string, double>();
        using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(path));
        foreach (var sample in log.Events)
        {
            if (sample is GCAllocationTickTraceData tick)
            {
                var (origin, method) = OriginOf(tick.TypeName, sample.CallStack());
                var bytes = tick.AllocationAmount64 / (double)requests;
                origins[origin] = origins.GetValueOrDefault(origin) + bytes;
                if (origin == Server)
                {
                    var site = $"{tick.TypeName} in {method}";
                    sites[site] = sites.GetValueOrDefault(site) + bytes;
                }
            }
        }

        return (origins, sites);
    }

    /// <summary>The origin of an allocation, and the method (the first frame of a known origin) that made it.</summary>
    private static (string Origin, string Method) OriginOf(string type, TraceCallStack? stack)
    {
        if (type == "System.Byte[]")
        {
            return (ByteArrays, "");
        }

        if (type.StartsWith("Google.Protobuf.", StringComparison.Ordinal) || type.StartsWith("Cluster.Client.Protocol.", StringComparison.Ordinal))
        {
            return (Protobuf, "");
        }

        for (var frame = stack; frame is not null; frame = frame.Caller)
        {
            var method = frame.CodeAddress.FullMethodName;
            foreach (var (prefix, origin) in Origins)
            {
                if (method.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return (origin, method);
                }
            }
        }

        return (Other, "");
    }
}
