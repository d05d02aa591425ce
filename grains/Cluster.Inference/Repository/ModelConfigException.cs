namespace Cluster.Inference.Repository;

/// <summary>A <c>config.json</c> that cannot be used; the message names the file and the field.</summary>
public sealed class ModelConfigException(string file, string field, string problem)
    : Exception($"{file}: field '{field}' {problem}")
{
    /// <summary>The file at fault.</summary>
    public string File { get; } = file;

    /// <summary>The JSON field at fault.</summary>
    public string Field { get; } = field;
}
