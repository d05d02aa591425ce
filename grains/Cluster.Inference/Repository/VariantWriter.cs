using System.Text.Json;
using Cluster.Contracts.Admin;
using Cluster.Contracts.Errors;
using Cluster.Inference.Execution;
using Cluster.Inference.Onnx;
using Cluster.Inference.Onnx.Proto;
using Google.Protobuf;

namespace Cluster.Inference.Repository;

/// <summary>
/// Writes an INT8 or FP16 variant of a model version's <c>model.onnx</c> into its version folder
/// (<c>model.int8.onnx</c>, <c>model.fp16.onnx</c>), after measuring it against the FP32 file on the model's configured warm-up
/// requests, or random inputs when it has none; the
/// report is written beside it (<c>model.int8.onnx.report.json</c>). Replicas started afterwards load it where their
/// device prefers it (<see cref="ModelVariants"/>).
/// </summary>
public static class VariantWriter
{
    /// <summary>Samples the accuracy report compares.</summary>
    public const int ReportSamples = 256;

    private static readonly JsonSerializerOptions ReportJson = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>
    /// Converts and writes the variant, returning its report (naming <paramref name="silo"/> as its writer). Throws
    /// <see cref="ModelNotFoundException"/> for an unknown model or version and <see cref="OperationRefusedException"/> for what
    /// cannot be converted (another variant, a generator or embedder, no constant-weight MatMul/Gemm for INT8, inputs that are
    /// not float32, a file ONNX Runtime cannot run).
    /// </summary>
    public static VariantReport Write(ModelRepository repository, string model, long version, string variant, string silo)
    {
        ArgumentNullException.ThrowIfNull(repository);
        if (variant is not (ModelVariants.Int8 or ModelVariants.Fp16))
        {
            throw new OperationRefusedException($"Variant '{variant}' cannot be written; use {ModelVariants.Int8} or {ModelVariants.Fp16}.");
        }

        var descriptor = repository.Read(model);
        var versions = string.Join(", ", descriptor.Versions.Select(v => v.Version));
        var served = Array.Find(descriptor.Versions, v => v.Version == version)
            ?? throw new ModelNotFoundException($"Model '{model}' has no version {version}; versions: {versions}.");
        if (!served.IsLoadable)
        {
            throw new OperationRefusedException($"Model '{model}' version {version} cannot be read: {served.Error}");
        }

        if (descriptor.Config.Generation is not null || descriptor.Config.TextEmbedding is not null)
        {
            throw new OperationRefusedException($"Model '{model}' is served as a generator or embedder, which loads its model.onnx only.");
        }

        var fp32File = repository.ModelFile(model, version);
        var (converted, nodes) = Convert(ModelProto.Parser.ParseFrom(File.ReadAllBytes(fp32File)), model, variant);
        var file = repository.VersionFile(model, version, ModelVariants.FileName(variant));
        var pending = $"{file}.{Environment.ProcessId}.tmp";
        try
        {
            File.WriteAllBytes(pending, converted.ToByteArray());
            var accuracy = Measure(fp32File, pending, model, () => descriptor.Config.Warmup.Length > 0
                ? WarmupRequests.Build(descriptor.Config, served, repository.WarmupDirectory(model))
                : []);
            var report = new VariantReport
            {
                Model = model,
                Version = version,
                Variant = variant,
                File = file,
                Silo = silo,
                ConvertedNodes = nodes,
                Samples = accuracy.Samples,
                Inputs = accuracy.Inputs,
                MaxAbsDifference = accuracy.MaxAbsDifference,
                Top1Agreement = accuracy.Top1Agreement,
                Fp32Bytes = new FileInfo(fp32File).Length,
                VariantBytes = new FileInfo(pending).Length,
            };
            File.Move(pending, file, overwrite: true);
            File.WriteAllText(file + ".report.json", JsonSerializer.Serialize(report, ReportJson));
            return report;
        }
        finally
        {
            File.Delete(pending);
        }
    }

    private static (ModelProto Model, int Nodes) Convert(ModelProto fp32, string model, string variant)
    {
        try
        {
            if (variant == ModelVariants.Fp16)
            {
                return (Fp16Converter.Convert(fp32), fp32.Graph.Node.Count);
            }

            var (int8, quantized) = Int8Quantizer.Quantize(fp32);
            return quantized > 0
                ? (int8, quantized)
                : throw new OperationRefusedException($"Model '{model}' has no MatMul or Gemm node with a constant weight matrix to quantise.");
        }
        catch (ArgumentException e)
        {
            throw new OperationRefusedException($"Model '{model}': {e.Message}");
        }
    }

    /// <summary>
    /// Measures on <paramref name="warmups"/>' requests (built here, so a warm-up that does not fit the model is a refusal too), or on
    /// random inputs when there are none.
    /// </summary>
    private static VariantAccuracy Measure(string fp32File, string variantFile, string model, Func<IReadOnlyList<WarmupRequest>> warmups)
    {
        try
        {
            return VariantAccuracy.Measure(fp32File, variantFile, ReportSamples, warmups: warmups());
        }
        catch (Exception e) when (e is ArgumentException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            throw new OperationRefusedException($"Model '{model}': the variant was not written, {e.Message}");
        }
    }
}
