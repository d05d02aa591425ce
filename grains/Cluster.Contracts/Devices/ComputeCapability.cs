using System.Globalization;
using System.Text.RegularExpressions;

namespace Cluster.Contracts.Devices;

/// <summary>A CUDA compute capability, such as 8.0 (A100) or 7.5 (T4): what a GPU's kernels can use. Ordered by major, then minor.</summary>
[GenerateSerializer, Immutable]
public readonly partial record struct ComputeCapability([property: Id(0)] int Major, [property: Id(1)] int Minor) : IComparable<ComputeCapability>
{
    /// <summary>Parses <c>major.minor</c> (<c>8.0</c>, <c>12.1</c>); false for anything else.</summary>
    public static bool TryParse(string? text, out ComputeCapability capability)
    {
        var match = text is null ? null : Pattern().Match(text);
        capability = match is { Success: true }
            ? new ComputeCapability(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture))
            : default;
        return match is { Success: true };
    }

    /// <inheritdoc />
    public int CompareTo(ComputeCapability other) => Major != other.Major ? Major.CompareTo(other.Major) : Minor.CompareTo(other.Minor);

    /// <summary>Whether this capability is at least <paramref name="minimum"/>.</summary>
    public bool Meets(ComputeCapability minimum) => CompareTo(minimum) >= 0;

    /// <summary><c>major.minor</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}");

    [GeneratedRegex(@"^([1-9][0-9]?)\.([0-9])$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
