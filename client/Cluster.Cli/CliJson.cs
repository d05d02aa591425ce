using System.Text.Json;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Cli;

/// <summary>The JSON shapes the console prints with <c>--json</c> (Open Inference Protocol names).</summary>
public static class CliJson
{
    /// <summary>Indented, nulls kept.</summary>
    public static JsonSerializerOptions Options { get; } = new() { WriteIndented = true };

    /// <summary>A tensor spec as <c>{name, datatype, shape}</c>.</summary>
    public static object Spec(TensorSpec spec) => new { name = spec.Name, datatype = spec.ElementType.ToProtocolName(), shape = spec.Shape };
}
