using System.Security.Cryptography;
using System.Text;
using Cluster.Silo.Configuration;
using Grpc.Core;

namespace Cluster.Silo.Edge;

/// <summary>
/// Optional bearer-token API keys with two scopes: <c>infer</c> (inference and metadata) and
/// <c>admin</c> (repository, statistics). Health checks need no key. Keys are never logged.
/// Keys are held as SHA-256 hashes and every check compares the caller's hash with all of them in constant time,
/// so how long a check takes tells nothing about which key matched or how long the keys are.
/// </summary>
public sealed class ApiKeyAuthorizer
{
    /// <summary>The scope for inference and metadata calls.</summary>
    public const string InferScope = "infer";

    /// <summary>The scope for repository and statistics calls.</summary>
    public const string AdminScope = "admin";

    private readonly List<(byte[] Hash, HashSet<string> Scopes)> _keys = [];

    /// <summary>
    /// Reads the keys from configuration and from the keys file (<c>key scope[,scope]</c> per line, # comments).
    /// Throws <see cref="SiloConfigurationException"/> naming every line of the file that does not parse, so keys never silently turn off.
    /// </summary>
    public ApiKeyAuthorizer(EdgeSettings settings)
    {
        foreach (var key in settings.ApiKeys)
        {
            Add(key.Key, key.Scopes);
        }

        if (settings.ApiKeysFile is { } file)
        {
            var problems = ApiKeysFile.Read(file, Add);
            if (problems.Count > 0)
            {
                throw new SiloConfigurationException(problems);
            }
        }
    }

    /// <summary>Whether keys are required.</summary>
    public bool Enabled => _keys.Count > 0;

    /// <summary>How many keys are configured.</summary>
    public int Count => _keys.Count;

    /// <summary>Null when the <c>Authorization</c> header grants <paramref name="scope"/>; otherwise the status and why.</summary>
    public (StatusCode Status, string Message)? Check(string? authorization, string scope)
    {
        if (!Enabled)
        {
            return null;
        }

        const string Bearer = "Bearer ";
        if (authorization is null || !authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return (StatusCode.Unauthenticated, "An API key is required: send 'authorization: Bearer <key>'.");
        }

        var given = Hash(authorization[Bearer.Length..].Trim());
        HashSet<string>? granted = null;
        foreach (var (hash, scopes) in _keys)
        {
            // No early exit: every key is compared whichever one matches.
            var matches = CryptographicOperations.FixedTimeEquals(given, hash);
            granted = matches ? scopes : granted;
        }

        return granted is null ? (StatusCode.Unauthenticated, "The API key is not valid.")
            : granted.Contains(scope) ? null
            : (StatusCode.PermissionDenied, $"The API key lacks the '{scope}' scope this call needs.");
    }

    private void Add(string key, IEnumerable<string> scopes) => _keys.Add((Hash(key), [.. scopes]));

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The scope a gRPC method needs; null for health checks, which need none.</summary>
    public static string? ScopeOf(string method) => method switch
    {
        "/inference.GRPCInferenceService/ServerLive" or "/inference.GRPCInferenceService/ServerReady" => null,
        _ when method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal) => null,
        "/inference.GRPCInferenceService/RepositoryIndex" or "/inference.GRPCInferenceService/RepositoryModelLoad"
            or "/inference.GRPCInferenceService/RepositoryModelUnload" or "/inference.GRPCInferenceService/ModelStatistics" => AdminScope,
        _ => InferScope,
    };
}
