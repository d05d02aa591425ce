using Grpc.Core;

namespace Cluster.Silo.Edge;

/// <summary>Checks the bearer key of a group of REST routes against their scope, answering a refusal in the group's error shape.</summary>
/// <param name="scope">The scope the routes need.</param>
/// <param name="error">Builds the refusal from its status and message.</param>
internal sealed class ApiKeyFilter(string scope, Func<StatusCode, string, IResult> error) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var keys = context.HttpContext.RequestServices.GetRequiredService<ApiKeyAuthorizer>();
        return keys.Check(context.HttpContext.Request.Headers.Authorization.ToString() is { Length: > 0 } header ? header : null, scope) is { } denied
            ? error(denied.Status, denied.Message)
            : await next(context);
    }
}
