using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Cluster.Client.Tensors;

/// <summary>
/// Floating-point output values for REST bodies. JSON has no NaN or infinity; Triton writes them as the bare
/// tokens <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> (RapidJSON's <c>kWriteNanAndInfFlag</c>), which
/// Python's <c>json</c> module and Triton's clients read, so the edge does the same rather than fail
/// a request whose model has already run. Strict JSON readers should ask for binary output data instead.
/// </summary>
public static class NonFiniteNumbers
{
    private static readonly JsonTypeInfo<double> Literal = JsonMetadataServices.CreateValueInfo<double>(JsonSerializerOptions.Default, new LiteralConverter());

    /// <summary>A JSON number for a finite value; Triton's bare token for NaN and the infinities.</summary>
    public static JsonValue Value(float value) => float.IsFinite(value) ? JsonValue.Create(value) : JsonValue.Create((double)value, Literal)!;

    /// <inheritdoc cref="Value(float)"/>
    public static JsonValue Value(double value) => double.IsFinite(value) ? JsonValue.Create(value) : JsonValue.Create(value, Literal)!;

    private sealed class LiteralConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("Only written.");

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) =>
            writer.WriteRawValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity", skipInputValidation: true);
    }
}
