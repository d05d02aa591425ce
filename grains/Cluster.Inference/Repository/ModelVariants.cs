using Cluster.Contracts.Models;

namespace Cluster.Inference.Repository;

/// <summary>
/// The files a model version may hold besides <c>model.onnx</c> (FP32): by convention <c>model.fp16.onnx</c> and
/// <c>model.int8.onnx</c>, or the files <c>config.json</c> declares under <c>variants</c> with the device kinds each suits;
/// each has the same inputs and outputs. A replica loads the best one its device kind runs well: FP16 on GPUs
/// (tensor cores), INT8 on CPUs (integer matrix products), FP32 everywhere as the fallback; a simulated device
/// models FP32 timings, so it takes FP32 unless a declaration says otherwise.
/// </summary>
public static class ModelVariants
{
    /// <summary>The full-precision file every version has.</summary>
    public const string Fp32 = "fp32";

    /// <summary>Half-precision weights and activations.</summary>
    public const string Fp16 = "fp16";

    /// <summary>Dynamic INT8: per-channel weights, activations quantised at run time.</summary>
    public const string Int8 = "int8";

    /// <summary>Every variant, in the order the console lists them.</summary>
    public static IReadOnlyList<string> All { get; } = [Fp32, Fp16, Int8];

    /// <summary>The file name of <paramref name="variant"/> in a version folder.</summary>
    public static string FileName(string variant) => variant == Fp32 ? ModelRepository.ModelFileName : $"model.{variant}.onnx";

    /// <summary>The variants a device kind takes, best first.</summary>
    public static IReadOnlyList<string> Preference(string deviceKind) => deviceKind switch
    {
        "cuda" => [Fp16, Fp32],
        "cpu" => [Int8, Fp32],
        _ => [Fp32],
    };

    /// <summary>
    /// The declared file a device of <paramref name="deviceKind"/> and compute <paramref name="capability"/> (null when unknown)
    /// loads: among those that suit it (<see cref="VariantFile.Suits(string, Contracts.Devices.ComputeCapability?)"/>), the best
    /// precision by <see cref="Preference"/> (then any that suits it, in declaration order); null when none suits it (it loads
    /// <c>model.onnx</c>).
    /// </summary>
    public static VariantFile? ChooseDeclared(string deviceKind, IReadOnlyList<VariantFile> declared, Contracts.Devices.ComputeCapability? capability = null)
    {
        var preference = Preference(deviceKind);
        int Rank(VariantFile variant) => preference.Contains(variant.Precision) ? preference.TakeWhile(p => p != variant.Precision).Count() : preference.Count;
        return declared.Where(v => v.Suits(deviceKind, capability)).OrderBy(Rank).FirstOrDefault();
    }

    /// <summary>The best variant for <paramref name="deviceKind"/> among those <paramref name="present"/>; FP32 when none of the preferred is.</summary>
    public static string Choose(string deviceKind, IEnumerable<string> present)
    {
        var available = present.ToHashSet(StringComparer.Ordinal);
        return Preference(deviceKind).FirstOrDefault(available.Contains) ?? Fp32;
    }
}
