using System.Globalization;
using Cluster.Cli.Admin;
using Cluster.Cli.Commands;
using Cluster.Client;
using Cluster.Client.Security;
using Cluster.Contracts.Errors;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Cli;

/// <summary>The <c>cluster</c> console: parses the command line, connects, runs one command and returns its exit code.</summary>
public static class ClusterCommandLine
{
    /// <summary>The longest wait for a gateway that <c>--connect-timeout</c> accepts, in seconds.</summary>
    public const int MaxConnectTimeoutSeconds = 300;

    /// <summary>The command line and its parts.</summary>
    public const string Usage = """
        Usage: cluster <command> [options]

        Commands:
          models [--json]                                  list models with their versions, inputs and outputs
                                                           (and each version's state, replica and traffic over the gateway)
          infer <model> --input name=v1,v2,... [--shape name=1x4] [--version N] [--output name] [--json]
                                                           run one inference and print the outputs
          embed "text" ["text" ...] [--model m] [--json]   sentence embeddings (default all-MiniLM-L6-v2-embeddings)
                                                           and the cosine similarity of every pair
          generate <model> "prompt" [--max-tokens N] [--temperature t] [--top-p p] [--top-k k] [--seed s]
                   [--stop str] [--version N] [--json]
                                                           generate text, printed as the tokens arrive, then a
                                                           summary (finish reason, tokens, time to first token,
                                                           tokens/s) on stderr; --json: one object at the end

        Admin commands (through a silo gateway or Redis, not --grpc):
          status [--json]                                  silos with their state, metadata and drain flag
          devices [--json]                                 devices: kind, memory, busy, health, loaded models
          model <model> [--json]                           one model: versions, states, split, replicas, traffic
          load <model> [--version N]                       serve a model (or add a version) and warm it up
          unload <model> [--version N] [--force]           stop serving a model or one version
          warmup <model> [--version N]                     load and warm up the served versions' replicas again
          split <model> 1=90 2=10 | off                    share versionless requests between versions
          policy <model> latest N | all | specific 1,3     which versions are served
          scale <model> [--min N] [--max M]                store replica bounds (for the autoscaler)
          quantize <model> [--version N] --int8|--fp16     write an INT8 or FP16 variant of the FP32 file into the
                                                           repository, with its accuracy against FP32
          experiment start <model> --arm <name>=<version>:<percent> ... [--set <arm>.<setting>=<value> ...]
                                                           A/B test versions and settings, each arm on its own
                                                           replica (guard rail: --max-error-increase, --max-p99-ratio,
                                                           --window-seconds, --min-requests)
          experiment show|stop <model>, experiment promote <model> <arm>
                                                           arms against the control with 95% intervals; end it
          drain <silo> | undrain <silo>                    stop (or resume) placing model replicas on a silo
          top [--interval s] [--iterations N]              live view of silos, devices and models (Ctrl-C ends)

        Certificates (mutual TLS on the silo and gateway ports; PEM files, kept when present unless --force):
          certs ca --out dir [--name n] [--days N]         a cluster CA: dir/ca.crt and dir/ca.key
          certs node --name n --ca dir [--out dir] [--dns a,b] [--ip addr] [--days N]
                                                           a node (silo or client) certificate issued by the CA:
                                                           n.crt and n.key

        Connection (default: the local silo's gateway 127.0.0.1:30000):
          --gateway host:port   a silo gateway (repeatable)
          --redis <connection>  find the silos through the cluster's Redis membership table
          --cluster-id <id>     Orleans cluster id (default: inference)
          --service-id <id>     Orleans service id (default: inference)
          --connect-timeout <s> seconds to wait for a gateway, above 0 and at most 300 (default 5)
                                (env CLUSTER_CONNECT_TIMEOUT)
          --grpc host:port      use a silo's gRPC edge instead (e.g. 127.0.0.1:8001; https://... for TLS)
          --api-key <key>       bearer key for the gRPC edge when it requires one
          --tls-ca <ca.crt>     the cluster CA, for gateways with mutual TLS (env CLUSTER_TLS_CA)
          --tls-cert <n.crt>    this client's certificate (PEM, or PKCS#12) (env CLUSTER_TLS_CERT)
          --tls-key <n.key>     its PEM private key (env CLUSTER_TLS_KEY)
          --tls-password <p>    the PKCS#12 file's password (env CLUSTER_TLS_PASSWORD)

        Exit codes: 0 success, 1 the cluster refused the request, 2 usage error, 3 cannot connect.
        """;

    /// <summary>Runs the command line <paramref name="args"/>, writing to <paramref name="output"/> and <paramref name="error"/>.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        CliArguments arguments;
        try
        {
            arguments = CliArguments.Parse(args);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync(e.Message);
            return 2;
        }

        if (arguments.Command is "" or "help" || arguments.Has("--help"))
        {
            await output.WriteLineAsync(Usage);
            return arguments.Command is "" ? 2 : 0;
        }

        if (arguments.Command == "certs")
        {
            return await RunAsync(() => Task.FromResult(CertsCommand.Run(arguments, output)), error, connectionFailure: null);
        }

        var admin = AdminCommands.Handles(arguments.Command);
        if (!admin && arguments.Command is not ("models" or "infer" or "embed" or "generate"))
        {
            await error.WriteLineAsync($"Unknown command '{arguments.Command}'.");
            await error.WriteLineAsync(Usage);
            return 2;
        }

        if (arguments.Value("--grpc") is { } edge)
        {
            if (admin)
            {
                await error.WriteLineAsync($"'{arguments.Command}' needs the admin API, which is reached through a silo gateway (--gateway) or Redis " +
                    "(--redis), not the gRPC edge.");
                return 2;
            }

            // The gRPC edge: for machines outside the cluster's network; connection failures surface on the first call.
            using var channel = GrpcChannel.ForAddress(edge.Contains("://", StringComparison.Ordinal) ? edge : "http://" + edge);
            return await RunAsync(() =>
                RunInferenceCommandAsync(InferenceClient.ForGrpc(channel, arguments.Value("--api-key")), arguments, output, error, cancellationToken), error,
                    connectionFailure: $"gRPC edge {edge}");
        }

        ClusterConnectionOptions options;
        try
        {
            options = ConnectionOptions(arguments);
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync(e.Message);
            return 2;
        }

        ClusterConnection connection;
        try
        {
            connection = await ClusterConnection.ConnectAsync(options, cancellationToken);
        }
        catch (ClusterTlsException e)
        {
            await error.WriteLineAsync($"{e.Message} (set by --tls-ca, --tls-cert, --tls-key, --tls-password or their CLUSTER_TLS_* variables)");
            return 2;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var target = options.RedisConnectionString is null
                ? "gateway " + string.Join(", ", options.Gateways)
                : "redis " + RedisConnection.Redact(options.RedisConnectionString);
            await error.WriteLineAsync($"Cannot connect to the cluster ({target}): {e.Message}");
            return 3;
        }

        await using (connection)
        {
            return await RunAsync(
                () => admin
                    ? AdminCommands.RunAsync(connection.Admin, arguments, AdminConsole.Create(output), cancellationToken)
                    : RunInferenceCommandAsync(connection.Inference, arguments, output, error, cancellationToken),
                error,
                connectionFailure: null);
        }
    }

    private static ClusterConnectionOptions ConnectionOptions(CliArguments arguments)
    {
        var options = new ClusterConnectionOptions
        {
            RedisConnectionString = arguments.Value("--redis"),
            ClusterId = arguments.Value("--cluster-id") ?? "inference",
            ServiceId = arguments.Value("--service-id") ?? "inference",
            ConnectTimeout = ConnectTimeout(arguments),
            Tls = new ClusterTlsOptions
            {
                CaCertificatePath = arguments.Value("--tls-ca") ?? Environment.GetEnvironmentVariable("CLUSTER_TLS_CA"),
                CertificatePath = arguments.Value("--tls-cert") ?? Environment.GetEnvironmentVariable("CLUSTER_TLS_CERT"),
                KeyPath = arguments.Value("--tls-key") ?? Environment.GetEnvironmentVariable("CLUSTER_TLS_KEY"),
                CertificatePassword = arguments.Value("--tls-password") ?? Environment.GetEnvironmentVariable("CLUSTER_TLS_PASSWORD"),
            },
        };
        if (arguments.All("--gateway") is { Count: > 0 } gateways)
        {
            options.Gateways = [.. gateways];
        }

        return options;
    }

    /// <summary>
    /// <c>--connect-timeout</c> (else <c>CLUSTER_CONNECT_TIMEOUT</c>, else 5 s): seconds above 0 and at most
    /// <see cref="MaxConnectTimeoutSeconds"/>; throws <see cref="UsageException"/> naming where a bad value came from.
    /// </summary>
    private static TimeSpan ConnectTimeout(CliArguments arguments)
    {
        var (source, text) = arguments.Value("--connect-timeout") is { } option
            ? ("--connect-timeout", option)
            : ("CLUSTER_CONNECT_TIMEOUT", Environment.GetEnvironmentVariable("CLUSTER_CONNECT_TIMEOUT"));
        if (string.IsNullOrEmpty(text))
        {
            return TimeSpan.FromSeconds(5);
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds <= MaxConnectTimeoutSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw new UsageException($"{source} '{text}' must be a number of seconds above 0 and at most {MaxConnectTimeoutSeconds}.");
    }

    private static Task<int> RunInferenceCommandAsync(InferenceClient client, CliArguments arguments, TextWriter output, TextWriter error,
        CancellationToken cancellationToken) => arguments.Command switch
    {
        "models" => ModelsCommand.RunAsync(client, arguments, output),
        "embed" => EmbedCommand.RunAsync(client, arguments, output),
        "generate" => GenerateCommand.RunAsync(client, arguments, output, error, cancellationToken),
        _ => InferCommand.RunAsync(client, arguments, output),
    };

    /// <summary>Runs a command, turning its errors into messages and exit codes.</summary>
    private static async Task<int> RunAsync(Func<Task<int>> command, TextWriter error, string? connectionFailure)
    {
        try
        {
            return await command();
        }
        catch (UsageException e)
        {
            await error.WriteLineAsync(e.Message);
            return 2;
        }
        catch (InferenceException e)
        {
            await error.WriteLineAsync($"{e.GetType().Name}: {e.Message}");
            return 1;
        }
        catch (RpcException e) when (connectionFailure is not null && e.StatusCode == StatusCode.Unavailable)
        {
            await error.WriteLineAsync($"Cannot connect to the cluster ({connectionFailure}): {e.Status.Detail}");
            return 3;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await error.WriteLineAsync($"Error: {e.Message}");
            return 1;
        }
    }
}
