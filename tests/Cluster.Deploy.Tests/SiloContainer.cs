using Cluster.Silo.Configuration;
using Microsoft.Extensions.Configuration;

namespace Cluster.Deploy.Tests;

/// <summary>A container running the silo image: its image's environment plus its own, checked against the real settings.</summary>
public sealed class SiloContainer
{
    private SiloContainer(SiloSettings settings) => Settings = settings;

    /// <summary>The settings the silo would run with (values from valueFrom/secrets left at their defaults).</summary>
    public SiloSettings Settings { get; }

    /// <summary>Its ports by role: http, grpc, metrics, silo, gateway.</summary>
    public IReadOnlyDictionary<string, int> Ports => SiloSchema.Ports(Settings);

    /// <summary>Whether a Dockerfile's ENTRYPOINT runs the silo.</summary>
    public static bool IsSilo(DockerfileModel dockerfile) => dockerfile.Entrypoint.Contains("Cluster.Silo.dll");

    /// <summary>
    /// Checks every variable's name and the values that can be checked, and returns the resulting
    /// settings; <paramref name="environment"/> values are null where they come from elsewhere (valueFrom).
    /// </summary>
    public static SiloContainer From(DockerfileModel image, IEnumerable<(string Name, string? Value, string Where)> environment, string file, Problems problems)
    {
        var merged = image.Environment.ToDictionary(e => e.Key, e => (string?)e.Value);
        foreach (var (name, value, where) in environment)
        {
            if (name.StartsWith("Cluster__", StringComparison.Ordinal) || name.StartsWith("Orleans__", StringComparison.Ordinal))
            {
                if (SiloSchema.CheckSettingName(name) is { } problem)
                {
                    problems.Add(file, where, problem);
                }
                else if (value is not null)
                {
                    merged[name] = value;
                }
            }
        }

        SiloSettings settings;
        try
        {
            settings = SiloSchema.Bind(merged);
        }
        catch (InvalidOperationException e)
        {
            problems.Add(file, "environment", $"a value does not bind to the silo's settings: {e.Message}");
            settings = new SiloSettings();
        }

        var metadata = new ConfigurationBuilder()
            .AddInMemoryCollection(merged.Where(e => e.Key.StartsWith("Orleans__Metadata__", StringComparison.Ordinal))
                .Select(e => KeyValuePair.Create(e.Key["Orleans__Metadata__".Length..], e.Value)))
            .Build();
        foreach (var problem in SiloMetadataKeys.Validate(metadata))
        {
            problems.Add(file, "environment", problem);
        }

        foreach (var (key, address) in SiloSchema.ListenAddresses(settings))
        {
            if (System.Net.IPAddress.IsLoopback(address))
            {
                problems.Add(file, key, $"binds to loopback {address}, unreachable from outside the container; use 0.0.0.0");
            }
        }

        return new SiloContainer(settings);
    }

    /// <summary>Checks a health URL: a REST route on the silo's HTTP port.</summary>
    public void CheckHealthUrl(Uri url, string file, string where, Problems problems, string? expectedPath = null) =>
        CheckHealthPath(url.AbsolutePath, url.Port, file, where, problems, expectedPath);

    /// <summary>Checks a probe's path and port against the REST edge.</summary>
    public void CheckHealthPath(string path, int port, string file, string where, Problems problems, string? expectedPath = null)
    {
        if (!SiloSchema.RestRoutes.Contains(path))
        {
            problems.Add(file,
                where, $"path '{path}' is not a route of the REST edge " +
                    $"({string.Join(", ", SiloSchema.RestRoutes.Where(r => r.Contains("health", StringComparison.Ordinal)))})");
        }
        else if (expectedPath is not null && path != expectedPath)
        {
            problems.Add(file, where, $"path '{path}' should be '{expectedPath}'");
        }

        if (port != Ports["http"])
        {
            problems.Add(file, where, $"port {port} is not the REST edge's port {Ports["http"]} (Cluster:Edge:HttpAddress)");
        }
    }

    /// <summary>Checks command-line arguments: each must be <c>--Section:Key=value</c> naming a setting.</summary>
    public static void CheckArguments(YamlNode arguments, string file, Problems problems)
    {
        foreach (var argument in arguments.Items)
        {
            var text = argument.Text ?? "";
            var name = text.TrimStart('-').Split('=')[0].Replace(":", "__", StringComparison.Ordinal);
            if (!text.StartsWith("--", StringComparison.Ordinal) || !text.Contains('=', StringComparison.Ordinal)
                || SiloSchema.CheckSettingName(name) is not null)
            {
                problems.Add(file, argument.Path, $"'{text}' is not a silo setting argument like --Cluster:SiloName=gpu-a");
            }
        }
    }
}
