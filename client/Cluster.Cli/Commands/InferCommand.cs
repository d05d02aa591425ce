using System.Text.Json;
using Cluster.Client;
using Cluster.Contracts.Tensors;

namespace Cluster.Cli.Commands;

/// <summary>
/// <c>infer &lt;model&gt; --input name=1,2,3,4 [--shape name=1x4] [--version N] [--output name] [--json]</c>:
/// runs one request and prints its outputs.
/// </summary>
public static class InferCommand
{
    /// <summary>Runs the command.</summary>
    public static async Task<int> RunAsync(InferenceClient client, CliArguments args, TextWriter output)
    {
        if (args.Positional.Count != 1)
        {
            throw new UsageException("Usage: infer <model> --input name=v1,v2,... [--shape name=1x4] [--version N] [--output name] [--json]");
        }

        var model = args.Positional[0];
        long? version = args.Value("--version") is { } v
            ? long.TryParse(v, out var parsed) ? parsed : throw new UsageException($"--version '{v}' is not a version number.")
            : null;
        var target = await client.ResolveAsync(model, version);
        var shapes = Pairs(args.All("--shape")).ToDictionary(p => p.Name, p => TensorText.ParseShape(p.Value));
        var inputs = new List<TensorData>();
        foreach (var (name, text) in Pairs(args.All("--input")))
        {
            var spec = Array.Find(target.Version.Inputs, s => s.Name == name)
                ?? throw new UsageException($"Model '{model}' has no input '{name}'; its inputs " +
                    $"are: {string.Join(", ", target.Version.Inputs.Select(s => s.ToString()))}.");
            inputs.Add(TensorText.Parse(spec, text, shapes.GetValueOrDefault(name)));
        }

        var response = await client.InferAsync(model, inputs, target.Version.Version, args.All("--output"));
        if (args.Has("--json"))
        {
            var outputs =
                response.Outputs.Select(o => new { name = o.Name, datatype = o.ElementType.ToProtocolName(), shape = o.Shape, data = TensorText.Values(o) });
            output.WriteLine(
                JsonSerializer.Serialize(
                    new { model_name = response.Model, model_version = response.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), outputs },
                        CliJson.Options));
            return 0;
        }

        output.WriteLine($"{response.Model} v{response.Version}");
        foreach (var tensor in response.Outputs)
        {
            output.WriteLine("  " + TensorText.Format(tensor));
        }

        return 0;
    }

    private static IEnumerable<(string Name, string Value)> Pairs(IReadOnlyList<string> values)
    {
        foreach (var value in values)
        {
            var eq = value.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new UsageException($"'{value}' is not of the form name=values.");
            }

            yield return (value[..eq], value[(eq + 1)..]);
        }
    }
}
