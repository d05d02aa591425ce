namespace Cluster.Edge.Tests.Fuzzing;

/// <summary>One input of a demo model as the fuzzer knows it: name, protocol datatype and the dimensions after the batch one.</summary>
public sealed record FuzzInput(string Name, string Datatype, long[] Row);

/// <summary>The demo models' signatures the fuzzer starts its valid requests from, and names that are not models.</summary>
public static class FuzzModels
{
    /// <summary>Served demo models with every input; each runs at once (no queue delay) so a valid case answers quickly.</summary>
    public static readonly (string Model, FuzzInput[] Inputs)[] Served =
    [
        ("tiny_classifier", [new("features", "FP32", [4])]),
        ("wide_mlp", [new("input", "FP32", [256])]),
        ("two_in_two_out", [new("a", "FP32", [4]), new("b", "FP32", [4])]),
        ("int64_scale", [new("ids", "INT64", [3])]),
        ("type_zoo",
        [
            new("halves", "FP16", [2]), new("flags", "BOOL", [2]), new("pixels", "UINT8", [2]),
            new("counts", "INT32", [2]), new("text", "BYTES", [2]),
        ]),
    ];

    /// <summary>Model names that are not served or try to leave the repository.</summary>
    public static readonly string[] Hostile =
    [
        "nope", "broken", "../tiny_classifier", "..", "tiny_classifier/../wide_mlp", "/etc/passwd", "..\\..\\x", "%2e%2e",
        "tiny_classifier\0", "TINY_CLASSIFIER", "tiny classifier", "\u202etiny", "con", "a:b",
    ];

    /// <summary>Datatype strings that are not the protocol's.</summary>
    public static readonly string[] BadDatatypes = ["FLOAT", "fp32", "", "FP8", "INT128", "STRING", "BF16\0", "UINT8 ", "TYPE_FP32"];

    /// <summary>Dimensions that lie: huge, negative, zero, overflowing when multiplied.</summary>
    public static readonly long[] BadDimensions = [1_000_000_000, -1, -2, 0, long.MaxValue, long.MinValue, int.MaxValue, 4097, 65536, 3_037_000_500];
}
