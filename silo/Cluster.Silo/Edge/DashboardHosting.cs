using System.Text;
using Orleans.Dashboard;

namespace Cluster.Silo.Edge;

/// <summary>
/// Mounts the Orleans Dashboard under <c>/dashboard</c> on the REST port. When API keys are on, it needs
/// a key with the <c>admin</c> scope, as a bearer token or as the password of HTTP basic authentication
/// (so a browser can ask for it; the user name is ignored).
/// </summary>
public static class DashboardHosting
{
    /// <summary>The dashboard's path.</summary>
    public const string Path = "/dashboard";

    /// <summary>Maps the dashboard on the REST endpoint <paramref name="httpAddress"/> behind the admin key.</summary>
    public static void MapAdminDashboard(this WebApplication app, string httpAddress)
    {
        var keys = app.Services.GetRequiredService<ApiKeyAuthorizer>();
        app.UseWhen(
            context => context.Request.Path.StartsWithSegments(Path, StringComparison.OrdinalIgnoreCase),
            branch => branch.Use(async (context, next) =>
            {
                if (keys.Check(BearerOf(context.Request.Headers.Authorization.ToString()), ApiKeyAuthorizer.AdminScope) is { } denied)
                {
                    context.Response.StatusCode = EdgeErrors.HttpStatusOf(denied.Status);
                    context.Response.Headers.WWWAuthenticate = "Basic realm=\"cluster dashboard\", charset=\"UTF-8\"";
                    await context.Response.WriteAsync(denied.Message);
                    return;
                }

                await next(context);
            }));
        app.MapOrleansDashboard(routePrefix: Path).RequireLocalPort(httpAddress);
    }

    /// <summary>The header as a bearer token: basic credentials become their password.</summary>
    private static string? BearerOf(string authorization)
    {
        const string Basic = "Basic ";
        if (!authorization.StartsWith(Basic, StringComparison.OrdinalIgnoreCase))
        {
            return authorization.Length == 0 ? null : authorization;
        }

        try
        {
            var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[Basic.Length..].Trim()));
            return "Bearer " + credentials[(credentials.IndexOf(':', StringComparison.Ordinal) + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
