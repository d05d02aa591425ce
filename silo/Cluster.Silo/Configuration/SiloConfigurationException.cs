namespace Cluster.Silo.Configuration;

/// <summary>The silo's configuration is invalid; the message lists every problem by key.</summary>
public sealed class SiloConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    /// <summary>The problems, each naming its key.</summary>
    public IReadOnlyList<string> Errors { get; } = errors;
}
