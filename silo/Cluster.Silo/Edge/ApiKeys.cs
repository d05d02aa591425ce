using System.Security.Cryptography;
using System.Text;
using Cluster.Silo.Configuration;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Cluster.Silo.Edge;

/// <summary>
/// Optional bearer-token API keys with two scopes: <c>infer</c> (inference and metadata) and
/// <c>admin</c> (repository, statistics). Health checks need no key. Keys are never logged.
/// </summary>
public sealed class ApiKeyAuthorizer
{
    /// <summary>The scope for inference and metadata calls.</summary>
    public const string InferScope = "infer";

    /// <summary>The scope for repository and statistics calls.</summary>
    public const string AdminScope = "admin";

    private readonly Dictionary<string, HashSet<string>> _keys = new(StringComparer.Ordinal);

    /// <summary>Reads the keys from configuration and from the keys file (<c>key scope[,scope]</c> per line, # comments).</summary>
    public ApiKeyAuthorizer(EdgeSettings settings)
    {
        foreach (var key in settings.ApiKeys)
        {
            _keys[key.Key] = [.. key.Scopes];
        }

        if (settings.ApiKeysFile is { } file)
        {
            foreach (var line in File.ReadAllLines(file))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (parts.Length == 2 && !parts[0].StartsWith('#'))
                {
                    _keys[parts[0]] = [.. parts[1].Split(',')];
                }
            }
        }
    }

    /// <summary>Whether keys are required.</summary>
    public bool Enabled => _keys.Count > 0;

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

        var given = Encoding.UTF8.GetBytes(authorization[Bearer.Length..].Trim());
        foreach (var (key, scopes) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(key)))
            {
                return scopes.Contains(scope) ? null : (StatusCode.PermissionDenied, $"The API key lacks the '{scope}' scope this call needs.");
            }
        }

        return (StatusCode.Unauthenticated, "The API key is not valid.");
    }

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

/// <summary>Checks the API key of every gRPC call against the scope its method needs.</summary>
public sealed class ApiKeyInterceptor(ApiKeyAuthorizer keys) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, responseStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    private void Authorize(ServerCallContext context)
    {
        if (ApiKeyAuthorizer.ScopeOf(context.Method) is { } scope && keys.Check(context.RequestHeaders.GetValue("authorization"), scope) is { } denied)
        {
            throw new RpcException(new Status(denied.Status, denied.Message));
        }
    }
}
