using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Client.Protocol;
using Cluster.Contracts.Tensors;
using Google.Protobuf;

namespace Cluster.Client.Tensors;

/// <summary>BYTES elements: UTF-8 strings, length-prefixed in the raw form, one per value in every other form.</summary>
public sealed class StringElementCodec : ElementCodec
{
    /// <inheritdoc/>
    public override TensorElementType Type => TensorElementType.String;

    /// <inheritdoc/>
    public override string ContentsField => "bytes_contents";

    /// <inheritdoc/>
    public override int CountIn(InferTensorContents contents) => contents.BytesContents.Count;

    /// <inheritdoc/>
    public override byte[] ReadContents(InferTensorContents contents) =>
        Bytes([.. contents.BytesContents.Select(b => b.ToStringUtf8())]);

    /// <inheritdoc/>
    public override void WriteContents(TensorData tensor, InferTensorContents contents) =>
        contents.BytesContents.Add(tensor.AsStrings().Select(ByteString.CopyFromUtf8));

    /// <inheritdoc/>
    public override byte[] ReadJson(IReadOnlyList<JsonElement> values) =>
        Bytes([.. values.Select(v => v.GetString() ?? throw new FormatException("not a string"))]);

    /// <inheritdoc/>
    public override JsonArray WriteJson(TensorData tensor) => new([.. tensor.AsStrings().Select(v => JsonValue.Create(v))]);

    /// <inheritdoc/>
    public override TensorData ParseText(string name, IReadOnlyList<string> items, long[] shape) => TensorData.FromStrings(name, items, shape);

    /// <inheritdoc/>
    public override string[] FormatText(TensorData tensor) => tensor.AsStrings();

    private static byte[] Bytes(string[] values) => TensorData.FromStrings("", values, values.Length).Data;
}
