using System.Globalization;

namespace Cluster.Contracts.Grains;

/// <summary>The key of a model replica grain: <c>{model}:{version}/{replica}</c>.</summary>
public readonly record struct ReplicaKey(string Model, long Version, int Replica)
{
    /// <summary>Parses a replica key; throws naming it when malformed.</summary>
    public static ReplicaKey Parse(string key)
    {
        var colon = key.LastIndexOf(':');
        var slash = key.LastIndexOf('/');
        if (colon <= 0 || slash < colon
            || !long.TryParse(key.AsSpan(colon + 1, slash - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || !int.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var replica))
        {
            throw new FormatException($"Replica key '{key}' is not of the form '{{model}}:{{version}}/{{replica}}'.");
        }

        return new ReplicaKey(key[..colon], version, replica);
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Model}:{Version}/{Replica}");
}
