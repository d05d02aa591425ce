using System.Net;

namespace Cluster.Silo.Configuration;

/// <summary>The Open Inference Protocol edge: configuration section <c>Cluster:Edge</c>.</summary>
public sealed class EdgeSettings
{
    /// <summary>gRPC endpoint (HTTP/2), Triton's 8001.</summary>
    public string GrpcAddress { get; set; } = "127.0.0.1:8001";

    /// <summary>REST endpoint (HTTP/1.1 and HTTP/2), Triton's 8000.</summary>
    public string HttpAddress { get; set; } = "127.0.0.1:8000";

    /// <summary>A PKCS#12 certificate file: when set, both endpoints use TLS.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The certificate file's password.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Largest request message in bytes (gRPC message or REST body).</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>The default of <see cref="MaxTextBodyBytes"/>: 1 MiB.</summary>
    public const long DefaultMaxTextBodyBytes = 1024 * 1024;

    /// <summary>Largest JSON body of the text routes (OpenAI's <c>/v1</c> and Triton's <c>generate</c>); larger ones get 413. <see cref="MaxMessageBytes"/>
    /// applies when smaller.</summary>
    public long MaxTextBodyBytes { get; set; } = DefaultMaxTextBodyBytes;

    /// <summary>The default of <see cref="MaxStreamRequestsInFlight"/>.</summary>
    public const int DefaultMaxStreamRequestsInFlight = 64;

    /// <summary>
    /// Most requests of one <c>ModelStreamInfer</c> call being run or answered at once. At the cap the edge reads no more
    /// of the stream until an answer has been written, so a client that does not read its answers stops being read.
    /// </summary>
    public int MaxStreamRequestsInFlight { get; set; } = DefaultMaxStreamRequestsInFlight;

    /// <summary>Most elements one tensor may claim.</summary>
    public long MaxElementsPerTensor { get; set; } = 16L * 1024 * 1024;

    /// <summary>Most elements all tensors of one request may claim together.</summary>
    public long MaxElementsPerRequest { get; set; } = 64L * 1024 * 1024;

    /// <summary>API keys; when any are configured (here or in <see cref="ApiKeysFile"/>) every call needs one.</summary>
    public List<ApiKeySetting> ApiKeys { get; set; } = [];

    /// <summary>A file of API keys, one per line: <c>key scope[,scope]</c>.</summary>
    public string? ApiKeysFile { get; set; }

    /// <summary>
    /// Serve without API keys on an address beyond loopback. Off by default: such an edge refuses to start, since anyone
    /// who reaches it could call every model and the repository routes. Logged at start when on.
    /// </summary>
    public bool AllowUnauthenticatedBeyondLoopback { get; set; }

    /// <summary>Most open connections across the edge's ports; more wait in the listen backlog.</summary>
    public long MaxConnections { get; set; } = 10_000;

    /// <summary>Most concurrent HTTP/2 streams (gRPC calls) per connection.</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>Most requests served at once across the edge; more are refused at once (HTTP 503, gRPC UNAVAILABLE) before their body is read.</summary>
    public int MaxConcurrentRequests { get; set; } = 10_000;

    /// <summary>Whether any API key is configured, in settings or by a keys file (which must then hold one).</summary>
    public bool HasKeys => ApiKeys.Count > 0 || ApiKeysFile is not null;

    /// <summary>Whether both edge ports listen on loopback only.</summary>
    public bool IsLoopbackOnly => IsLoopback(GrpcAddress) && IsLoopback(HttpAddress);

    /// <summary>Problems, each naming its key.</summary>
    public IEnumerable<string> Validate()
    {
        foreach (var (name, value) in new[] { ("GrpcAddress", GrpcAddress), ("HttpAddress", HttpAddress) })
        {
            if (!IPEndPoint.TryParse(value, out var endpoint) || endpoint.Port == 0)
            {
                yield return $"Cluster:Edge:{name} '{value}' is not an address:port like 127.0.0.1:8001.";
            }
        }

        if (GrpcAddress == HttpAddress)
        {
            yield return $"Cluster:Edge:GrpcAddress and Cluster:Edge:HttpAddress must differ (both are {GrpcAddress}).";
        }

        if (CertificatePath is not null && !File.Exists(CertificatePath))
        {
            yield return $"Cluster:Edge:CertificatePath '{CertificatePath}' does not exist.";
        }

        if (ApiKeysFile is not null && !File.Exists(ApiKeysFile))
        {
            yield return $"Cluster:Edge:ApiKeysFile '{ApiKeysFile}' does not exist.";
        }

        if (MaxMessageBytes < 1024 || MaxElementsPerTensor < 1 || MaxElementsPerRequest < MaxElementsPerTensor)
        {
            yield return "Cluster:Edge limits need MaxMessageBytes >= 1024, MaxElementsPerTensor >= 1 and MaxElementsPerRequest >= MaxElementsPerTensor.";
        }

        if (!HasKeys && !AllowUnauthenticatedBeyondLoopback && !IsLoopbackOnly)
        {
            yield return $"Cluster:Edge listens beyond loopback (gRPC {GrpcAddress}, HTTP {HttpAddress}) without API keys: set Cluster:Edge:ApiKeys or " +
                "Cluster:Edge:ApiKeysFile, "
                + "or Cluster:Edge:AllowUnauthenticatedBeyondLoopback=true to serve anyone who reaches it.";
        }

        if (MaxConnections < 1 || MaxStreamsPerConnection < 1 || MaxConcurrentRequests < 1)
        {
            yield return $"Cluster:Edge:MaxConnections ({MaxConnections}), MaxStreamsPerConnection ({MaxStreamsPerConnection}) and MaxConcurrentRequests " +
                $"({MaxConcurrentRequests}) must be at least 1.";
        }

        if (MaxStreamRequestsInFlight is < 1 or > 65536)
        {
            yield return $"Cluster:Edge:MaxStreamRequestsInFlight must be between 1 and 65536, got {MaxStreamRequestsInFlight}.";
        }

        if (MaxTextBodyBytes < 1024)
        {
            yield return $"Cluster:Edge:MaxTextBodyBytes must be at least 1024, got {MaxTextBodyBytes}.";
        }

        foreach (var key in ApiKeys)
        {
            if (string.IsNullOrWhiteSpace(key.Key) || key.Scopes.Count == 0 || key.Scopes.Exists(s => s is not ("infer" or "admin")))
            {
                yield return "Cluster:Edge:ApiKeys entries need a Key and Scopes from 'infer', 'admin'.";
            }
        }
    }

    private static bool IsLoopback(string address) => IPEndPoint.TryParse(address, out var endpoint) && IPAddress.IsLoopback(endpoint.Address);
}

/// <summary>One API key and what it may do.</summary>
public sealed class ApiKeySetting
{
    /// <summary>The bearer token.</summary>
    public string Key { get; set; } = "";

    /// <summary><c>infer</c> (inference, metadata, health) and/or <c>admin</c> (repository, statistics).</summary>
    public List<string> Scopes { get; set; } = [];
}
