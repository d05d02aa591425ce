using System.Net;
using System.Security.Cryptography.X509Certificates;
using Cluster.Client;
using Cluster.Inference.Replicas;
using Cluster.Silo.Configuration;
using Cluster.Silo.Edge.OpenAi;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Cluster.Silo.Edge;

/// <summary>Wires the Open Inference Protocol edge into the silo's web host: gRPC on one port, REST on another, optional TLS.</summary>
public static class EdgeHosting
{
    /// <summary>Registers the edge's services and Kestrel endpoints.</summary>
    public static void AddEdge(this WebApplicationBuilder builder, EdgeSettings settings)
    {
        var readiness = new ClusterReadiness();
        builder.Services.AddSingleton(readiness);
        builder.Services.AddSingleton(sp => new InferenceClient(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<ILocalReplicas>().Find));
        builder.Services.AddSingleton<ModelQueries>();
        builder.Services.AddSingleton<ModelRepositoryControl>();
        builder.Services.AddSingleton(
            new EdgeLimits(settings.MaxElementsPerTensor, settings.MaxElementsPerRequest, Math.Min(settings.MaxTextBodyBytes, settings.MaxMessageBytes),
                settings.MaxStreamRequestsInFlight));
        var keys = new ApiKeyAuthorizer(settings);
        builder.Services.AddSingleton(keys);

        // Stateless: one instance serves every call, rather than one activated per call.
        builder.Services.AddSingleton<GrpcInferenceService>();
        builder.Services.AddSingleton<GrpcExtensionsService>();
        builder.Services.AddSingleton<GrpcErrors>();
        builder.Services.AddGrpc(o =>
        {
            // API keys are checked by EdgeGate from the request headers, before the message is read.
            o.MaxReceiveMessageSize = settings.MaxMessageBytes;
            o.MaxSendMessageSize = null;

            // No catch-all routes for unknown services and methods: every call would pay for matching them. EdgeGate answers those UNIMPLEMENTED.
            o.IgnoreUnknownServices = true;
        });
        builder.Services.AddGrpcHealthChecks().AddReadiness(builder.Logging, builder.Configuration, readiness);
        QuietRequestLog(builder);

        var certificate = settings.CertificatePath is { } path ? X509CertificateLoader.LoadPkcs12FromFile(path, settings.CertificatePassword) : null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = settings.MaxMessageBytes;
            kestrel.Limits.MaxConcurrentConnections = settings.MaxConnections;
            kestrel.Limits.MaxConcurrentUpgradedConnections = settings.MaxConnections;
            kestrel.Limits.Http2.MaxStreamsPerConnection = settings.MaxStreamsPerConnection;
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPEndPoint.Parse(settings.GrpcAddress), o => Listen(o, HttpProtocols.Http2, certificate));
            kestrel.Listen(IPEndPoint.Parse(settings.HttpAddress), o =>
                Listen(o, certificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2, certificate));
        });
    }

    /// <summary>Maps the gRPC service and gRPC health on the gRPC port, the REST routes on the HTTP port, behind <see cref="EdgeGate"/>; open streams end when
    /// the silo starts stopping.</summary>
    public static void MapEdge(this WebApplication app, EdgeSettings settings)
    {
        app.UseMiddleware<EdgeGate>();
        app.UseStreamsEndOnStop();
        app.MapGrpcService<GrpcInferenceService>().RequireLocalPort(settings.GrpcAddress);
        app.MapGrpcService<GrpcExtensionsService>().RequireLocalPort(settings.GrpcAddress);
        app.MapGrpcHealthChecksService().RequireLocalPort(settings.GrpcAddress);
        var rest = app.MapGroup("").RequireLocalPort(settings.HttpAddress);
        RestEndpoints.Map(rest);
        OpenAiEndpoints.Map(rest);
    }

    /// <summary>
    /// ASP.NET Core starts an Activity and a log scope for every request whenever its request log category is
    /// enabled at any level, even when nothing is logged or traced. Unless configured, that category is off, so a
    /// request pays for neither; with tracing on, requests still get their activities (TelemetryHosting listens).
    /// </summary>
    private static void QuietRequestLog(WebApplicationBuilder builder)
    {
        const string category = "Microsoft.AspNetCore.Hosting.Diagnostics";
        if (builder.Configuration[$"Logging:LogLevel:{category}"] is null)
        {
            builder.Logging.AddFilter(category, LogLevel.None);
        }
    }

    private static void Listen(ListenOptions options, HttpProtocols protocols, X509Certificate2? certificate)
    {
        options.Protocols = protocols;
        if (certificate is not null)
        {
            options.UseHttps(certificate);
        }
    }
}
