using System.Globalization;

namespace Cluster.Contracts.Grains;

/// <summary>
/// The key of a model replica grain: <c>{model}:{version}/{replica}</c>, or <c>{model}:{version}@{arm}/{replica}</c>
/// for a replica of an experiment arm (it serves only that arm's requests, under the arm's settings; the arm is written
/// <c>{experiment id}.{arm name}</c>).
/// </summary>
public readonly record struct ReplicaKey(string Model, long Version, int Replica, string Arm = "")
{
    /// <summary>Parses a replica key; throws naming it when malformed.</summary>
    public static ReplicaKey Parse(string key)
    {
        var colon = key.LastIndexOf(':');
        var slash = key.LastIndexOf('/');
        var at = colon < 0 ? -1 : key.IndexOf('@', colon);
        var versionEnd = at > 0 && at < slash ? at : slash;
        if (colon <= 0 || slash < colon
            || !long.TryParse(key.AsSpan(colon + 1, versionEnd - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || !int.TryParse(key.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var replica)
            || versionEnd == slash - 1)
        {
            throw new FormatException($"Replica key '{key}' is not of the form '{{model}}:{{version}}/{{replica}}' or " +
                "'{model}:{version}@{arm}/{replica}'.");
        }

        return new ReplicaKey(key[..colon], version, replica, versionEnd == slash ? "" : key[(at + 1)..slash]);
    }

    /// <summary>Whether <paramref name="key"/> names an experiment arm's replica, which serves only its arm's requests.</summary>
    public static bool IsArm(string key) => key?.Contains('@', StringComparison.Ordinal) ?? false;

    /// <inheritdoc />
    public override string ToString() => Arm.Length == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Model}:{Version}/{Replica}")
        : string.Create(CultureInfo.InvariantCulture, $"{Model}:{Version}@{Arm}/{Replica}");
}
