using Cluster.Cli;
using Cluster.Cli.Commands;
using Cluster.Client;
using Cluster.Contracts.Errors;
using Grpc.Core;
using Grpc.Net.Client;

const string Usage = """
    Usage: cluster <command> [options]

    Commands:
      models [--json]                                  list models with their versions, inputs and outputs
      infer <model> --input name=v1,v2,... [--shape name=1x4] [--version N] [--output name] [--json]
                                                       run one inference and print the outputs
      embed "text" ["text" ...] [--model m] [--json]   sentence embeddings (default model all-MiniLM-L6-v2-embeddings)
                                                       and the cosine similarity of every pair

    Connection (default: the local silo's gateway 127.0.0.1:30000):
      --gateway host:port   a silo gateway (repeatable)
      --redis <connection>  find the silos through the cluster's Redis membership table
      --cluster-id <id>     Orleans cluster id (default: inference)
      --service-id <id>     Orleans service id (default: inference)
      --grpc host:port      use a silo's gRPC edge instead (e.g. 127.0.0.1:8001; https://... for TLS)
      --api-key <key>       bearer key for the gRPC edge when it requires one
    """;

CliArguments arguments;
try
{
    arguments = CliArguments.Parse(args);
}
catch (UsageException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

if (arguments.Command is "" or "help" || arguments.Has("--help"))
{
    Console.WriteLine(Usage);
    return arguments.Command is "" ? 2 : 0;
}

if (arguments.Command is not ("models" or "infer" or "embed"))
{
    Console.Error.WriteLine($"Unknown command '{arguments.Command}'.");
    Console.Error.WriteLine(Usage);
    return 2;
}

if (arguments.Value("--grpc") is { } edge)
{
    // The gRPC edge: for machines outside the cluster's network; connection failures surface on the first call.
    using var channel = GrpcChannel.ForAddress(edge.Contains("://", StringComparison.Ordinal) ? edge : "http://" + edge);
    return await RunAsync(InferenceClient.ForGrpc(channel, arguments.Value("--api-key")), arguments, connectionFailure: $"gRPC edge {edge}");
}

var options = new ClusterConnectionOptions
{
    RedisConnectionString = arguments.Value("--redis"),
    ClusterId = arguments.Value("--cluster-id") ?? "inference",
    ServiceId = arguments.Value("--service-id") ?? "inference",
    ConnectTimeout = TimeSpan.FromSeconds(5),
};
if (arguments.All("--gateway") is { Count: > 0 } gateways)
{
    options.Gateways = [.. gateways];
}

ClusterConnection connection;
try
{
    connection = await ClusterConnection.ConnectAsync(options);
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    Console.Error.WriteLine($"Cannot connect to the cluster ({(options.RedisConnectionString is null ? "gateway " + string.Join(", ", options.Gateways) : "redis " + options.RedisConnectionString)}): {e.Message}");
    return 3;
}

await using (connection)
{
    return await RunAsync(connection.Inference, arguments, connectionFailure: null);
}

static async Task<int> RunAsync(InferenceClient client, CliArguments arguments, string? connectionFailure)
{
    try
    {
        return arguments.Command switch
        {
            "models" => await ModelsCommand.RunAsync(client, arguments, Console.Out),
            "embed" => await EmbedCommand.RunAsync(client, arguments, Console.Out),
            _ => await InferCommand.RunAsync(client, arguments, Console.Out),
        };
    }
    catch (UsageException e)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }
    catch (InferenceException e)
    {
        Console.Error.WriteLine($"{e.GetType().Name}: {e.Message}");
        return 1;
    }
    catch (RpcException e) when (connectionFailure is not null && e.StatusCode == StatusCode.Unavailable)
    {
        Console.Error.WriteLine($"Cannot connect to the cluster ({connectionFailure}): {e.Status.Detail}");
        return 3;
    }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        Console.Error.WriteLine($"Error: {e.Message}");
        return 1;
    }
}
