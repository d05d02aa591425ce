using System.Net;
using System.Net.Http.Headers;
using Cluster.Client.Protocol;
using Cluster.Edge.Tests.Fuzzing;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cluster.Edge.Tests;

/// <summary>
/// Every route and RPC the silo serves, found from its own endpoint table and the service descriptor (so a
/// new one is covered without listing it here), checked against the API-key scopes.
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class AccessControlTests(EdgeFixture fixture)
{
    private static readonly string[] OpenRestRoutes = ["/v2/health/live", "/v2/health/ready"];
    private static readonly string[] OpenRpcs = ["ServerLive", "ServerReady"];
    private static readonly string[] AdminRpcs = ["ModelStatistics", "RepositoryIndex", "RepositoryModelLoad", "RepositoryModelUnload"];

    [Fact]
    public async Task EveryRestRoute_NeedsAKey_AdminRoutesNeedTheAdminScope()
    {
        var routes = RestRoutes();
        Assert.Contains(routes, r => r.Path.StartsWith("/dashboard", StringComparison.Ordinal));
        foreach (var (method, path) in routes)
        {
            var open = OpenRestRoutes.Contains(path);
            var admin = path.StartsWith("/dashboard", StringComparison.Ordinal) || path.StartsWith("/v2/repository", StringComparison.Ordinal)
                || path.EndsWith("/stats", StringComparison.Ordinal);
            var withoutKey = await SendAsync(method, path, key: null);
            var withInferKey = await SendAsync(method, path, EdgeFixture.InferKey);

            Assert.True(open ? withoutKey != HttpStatusCode.Unauthorized
                : withoutKey == HttpStatusCode.Unauthorized, $"{method} {path} without a key: {withoutKey}");
            Assert.True(admin ? withInferKey == HttpStatusCode.Forbidden
                : withInferKey is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{method} {path} with the infer key: {withInferKey}");
        }
    }

    [Fact]
    public async Task EveryRpc_NeedsAKey_AdminRpcsNeedTheAdminScope()
    {
        foreach (var method in GRPCInferenceService.Descriptor.Methods)
        {
            var withoutKey = await CallAsync(method.Name, method.IsClientStreaming, key: null);
            var withInferKey = await CallAsync(method.Name, method.IsClientStreaming, EdgeFixture.InferKey);

            Assert.True(OpenRpcs.Contains(method.Name) ? withoutKey == StatusCode.OK
                : withoutKey == StatusCode.Unauthenticated, $"{method.Name} without a key: {withoutKey}");
            Assert.True(AdminRpcs.Contains(method.Name) ? withInferKey == StatusCode.PermissionDenied
                : withInferKey is not (StatusCode.Unauthenticated or StatusCode.PermissionDenied), $"{method.Name} with the infer key: {withInferKey}");
        }
    }

    [Fact]
    public async Task HostileModelNames_NeverLeaveTheRepository()
    {
        foreach (var name in FuzzModels.Hostile.Where(n => n is not ("nope" or "broken")))
        {
            // HttpClient resolves a ".." path segment itself, so that name only goes through gRPC.
            var escaped = Uri.EscapeDataString(name);
            foreach (var (method, path) in name == ".." ? []
                : new[] { ("GET", $"/v2/models/{escaped}"), ("GET", $"/v2/models/{escaped}/stats"), ("POST", $"/v2/repository/models/{escaped}/load"),
                    ("POST", $"/v2/repository/models/{escaped}/unload") })
            {
                var status = await SendAsync(method, path, EdgeFixture.AdminKey);
                Assert.True(status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{method} {path}: {status}");
            }

            var load = await Assert.ThrowsAsync<RpcException>(() =>
                fixture.Grpc.RepositoryModelLoadAsync(new RepositoryModelLoadRequest { ModelName = name }, EdgeFixture.Key()).ResponseAsync);
            Assert.True(load.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument, $"load '{name}': {load.StatusCode}");
        }
    }

    /// <summary>The REST port's routes with their parameters filled in; gRPC methods (HTTP/2 only) and the metrics port are left out.</summary>
    private List<(string Method, string Path)> RestRoutes()
    {
        var routes = new List<(string, string)>();
        foreach (var endpoint in fixture.Cluster.Silos[0].Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = endpoint.RoutePattern.RawText ?? "";
            if (endpoint.Metadata.GetMetadata<GrpcMethodMetadata>() is not null || endpoint.DisplayName?.StartsWith("gRPC", StringComparison.Ordinal) == true
                || pattern.StartsWith("/metrics", StringComparison.Ordinal))
            {
                continue;
            }

            var path = "/" + string.Join('/', endpoint.RoutePattern.PathSegments.Select(s => string.Concat(s.Parts.Select(p => p switch
            {
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "model" } => "tiny_classifier",
                Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart { Name: "version" } => "1",
                _ => "x",
            }))));
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                routes.Add((method, path));
            }
        }

        return routes;
    }

    private async Task<HttpStatusCode> SendAsync(string method, string path, string? key)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = new StringContent("{}");
        }

        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await fixture.Http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Calls an RPC with an empty message; the status it ends with.</summary>
    private async Task<StatusCode> CallAsync(string name, bool streaming, string? key)
    {
        var marshaller = Marshallers.Create<byte[]>(b => b, b => b);
        var method = new Method<byte[],
            byte[]>(streaming ? MethodType.DuplexStreaming : MethodType.Unary, "inference.GRPCInferenceService", name, marshaller, marshaller);
        var options = new CallOptions(key is null ? [] : EdgeFixture.Key(key));
        var invoker = fixture.Channel.CreateCallInvoker();
        try
        {
            if (streaming)
            {
                using var call = invoker.AsyncDuplexStreamingCall(method, null, options);
                await call.RequestStream.CompleteAsync();
                while (await call.ResponseStream.MoveNext(CancellationToken.None))
                {
                }
            }
            else
            {
                await invoker.AsyncUnaryCall(method, null, options, []).ResponseAsync;
            }

            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
