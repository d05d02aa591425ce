using System.Globalization;

namespace Cluster.Client;

/// <summary>How the edge tells a caller when to retry a rejected request (a full queue).</summary>
public static class RetryHint
{
    /// <summary>gRPC's standard trailer for a server's retry delay in milliseconds, which gRPC retry policies honour.</summary>
    public const string GrpcTrailer = "grpc-retry-pushback-ms";

    /// <summary>The delay in whole milliseconds, rounded up, as the trailer carries it.</summary>
    public static string Milliseconds(TimeSpan delay) =>
        ((long)Math.Ceiling(delay.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>The delay as HTTP's <c>Retry-After</c> header carries it: whole seconds, rounded up, at least 1.</summary>
    public static string Seconds(TimeSpan delay) =>
        Math.Max(1L, (long)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>The delay a trailer value names; zero when absent or not a number.</summary>
    public static TimeSpan FromMilliseconds(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? TimeSpan.FromMilliseconds(ms) : TimeSpan.Zero;
}
