using System.Text.RegularExpressions;

namespace Cluster.Contracts.Models;

/// <summary>Rules for model names: they become folder names, so nothing that can leave the repository.</summary>
public static partial class ModelName
{
    /// <summary>Whether <paramref name="name"/> is a valid model name: 1–128 of letters, digits, '_', '-', '.', starting with a letter or digit.</summary>
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    /// <summary>Throws <see cref="ArgumentException"/> naming the value when it is not a valid model name.</summary>
    public static void Validate(string? name)
    {
        if (!IsValid(name))
        {
            throw new ArgumentException(Problem(name), nameof(name));
        }
    }

    /// <summary>What is wrong with an invalid model name, naming it.</summary>
    public static string Problem(string? name) =>
        $"Model name '{name}' is invalid: use 1-128 letters, digits, '_', '-' or '.', starting with a letter or digit.";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex Pattern();
}
