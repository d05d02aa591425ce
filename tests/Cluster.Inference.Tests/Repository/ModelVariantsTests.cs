using Cluster.Contracts.Devices;
using System.Text.Json;
using Cluster.Contracts.Models;
using Cluster.Inference.Repository;
using Cluster.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Inference.Tests.Repository;

public sealed class ModelVariantsTests
{
    [Theory]
    [InlineData("cuda", "fp32,fp16,int8", "fp16")]
    [InlineData("cuda", "fp32,int8", "fp32")]
    [InlineData("cpu", "fp32,fp16,int8", "int8")]
    [InlineData("cpu", "fp32,fp16", "fp32")]
    [InlineData("sim:t4", "fp32,fp16,int8", "fp32")]
    public void Choose_EachDeviceKind_TakesItsBestPresentVariant(string kind, string present, string expected) =>
        Assert.Equal(expected, ModelVariants.Choose(kind, present.Split(',')));

    [Fact]
    public void VariantFile_VersionFolderWithSeveralFiles_PicksByDeviceKind()
    {
        var root = RepositoryPaths.CopyModelsToTemp();
        try
        {
            var folder = Path.Combine(root, "wide_mlp", "1");
            File.Copy(Path.Combine(folder, "model.onnx"), Path.Combine(folder, "model.int8.onnx"));
            var repository = new ModelRepository(root, NullLogger<ModelRepository>.Instance);
            Assert.Equal(("int8", Path.Combine(folder, "model.int8.onnx")), repository.VariantFile("wide_mlp", 1, "cpu"));
            Assert.Equal(("fp32", Path.Combine(folder, "model.onnx")), repository.VariantFile("wide_mlp", 1, "cuda"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("cpu", "model.int8.onnx")]
    [InlineData("cuda", "model.fp16.onnx")]
    [InlineData("sim:t4", "sim.onnx")]
    [InlineData("sim", "sim.onnx")]
    public void ChooseDeclared_EachKind_TakesTheBestFileThatSuitsIt(string kind, string expected)
    {
        VariantFile[] declared =
        [
            new() { File = "model.fp32.cuda.onnx", Precision = "fp32", DeviceKinds = ["cuda"] },
            new() { File = "model.fp16.onnx", Precision = "fp16", DeviceKinds = ["cuda"] },
            new() { File = "model.int8.onnx", Precision = "int8", DeviceKinds = ["cpu"] },
            new() { File = "sim.onnx", Precision = "int8", DeviceKinds = ["sim"] },
        ];

        Assert.Equal(expected, ModelVariants.ChooseDeclared(kind, declared)?.File);
    }

    [Theory]
    [InlineData("sim:a100", "9.0", "ampere.fp16.onnx")]
    [InlineData("sim:a100", "8.0", "ampere.fp16.onnx")]
    [InlineData("sim:t4", "7.5", "any.fp16.onnx")]
    [InlineData("sim:t4", null, "any.fp16.onnx")]
    [InlineData("cuda", "8.6", "ampere.fp16.onnx")]
    [InlineData("cuda", "7.0", "any.fp16.onnx")]
    public void ChooseDeclared_MinimumComputeCapability_ChosenOnlyWhereTheDeviceMeetsIt(string kind, string? capability, string expected)
    {
        VariantFile[] declared =
        [
            new() { File = "ampere.fp16.onnx", Precision = "fp16", DeviceKinds = ["cuda", "sim"], MinComputeCapability = new ComputeCapability(8, 0) },
            new() { File = "any.fp16.onnx", Precision = "fp16", DeviceKinds = ["cuda", "sim"] },
        ];
        ComputeCapability? device = ComputeCapability.TryParse(capability, out var parsed) ? parsed : null;

        Assert.Equal(expected, ModelVariants.ChooseDeclared(kind, declared, device)?.File);
    }

    [Fact]
    public void VariantFile_OnlyFileNeedsACapabilityTheDeviceLacks_LoadsModelOnnx()
    {
        var root = RepositoryPaths.CopyModelsToTemp();
        try
        {
            var folder = Path.Combine(root, "tiny_classifier", "1");
            File.Copy(Path.Combine(folder, "model.onnx"), Path.Combine(folder, "hopper.fp16.onnx"));
            WriteConfig(root, """
                {"max_batch_size": 8, "variants": [{"file": "hopper.fp16.onnx", "precision": "fp16", "device_kinds": ["sim"], "min_compute_capability": "9.0"}]}
                """);
            var repository = new ModelRepository(root, NullLogger<ModelRepository>.Instance);
            var declared = repository.Read("tiny_classifier").Config.Variants;

            Assert.Equal(new ComputeCapability(9, 0), declared[0].MinComputeCapability);
            Assert.Equal(("fp16", Path.Combine(folder, "hopper.fp16.onnx")), repository.VariantFile("tiny_classifier", 1, "sim:h100", declared, new(9, 0)));
            Assert.Equal(("fp32", Path.Combine(folder, "model.onnx")), repository.VariantFile("tiny_classifier", 1, "sim:a10g", declared, new(8, 6)));
            Assert.Equal(("fp32", Path.Combine(folder, "model.onnx")), repository.VariantFile("tiny_classifier", 1, "sim:t4", declared));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ChooseDeclared_NoFileSuitsTheKind_IsNull() =>
        Assert.Null(ModelVariants.ChooseDeclared("cuda", [new VariantFile { File = "q.onnx", Precision = "int8", DeviceKinds = ["cpu"] }]));

    [Fact]
    public void VariantFile_Declared_FollowsTheDeclarationNotTheFileNames()
    {
        var root = RepositoryPaths.CopyModelsToTemp();
        try
        {
            var folder = Path.Combine(root, "tiny_classifier", "1");
            File.Copy(Path.Combine(folder, "model.onnx"), Path.Combine(folder, "classifier-q8.onnx"));
            File.Copy(Path.Combine(folder, "model.onnx"), Path.Combine(folder, "model.int8.onnx"));
            WriteConfig(root, """{"max_batch_size": 8, "variants": [{"file": "classifier-q8.onnx", "precision": "int8", "device_kinds": ["cpu", "sim"]}]}""");
            var repository = new ModelRepository(root, NullLogger<ModelRepository>.Instance);
            var declared = repository.Read("tiny_classifier").Config.Variants;

            Assert.Equal(("int8", Path.Combine(folder, "classifier-q8.onnx")), repository.VariantFile("tiny_classifier", 1, "cpu", declared));
            Assert.Equal(("int8", Path.Combine(folder, "classifier-q8.onnx")), repository.VariantFile("tiny_classifier", 1, "sim:t4", declared));
            Assert.Equal(("fp32", Path.Combine(folder, "model.onnx")), repository.VariantFile("tiny_classifier", 1, "cuda", declared));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Read_DeclaredFileMissingFromAVersion_FailsThatVersionNamingTheField()
    {
        var root = RepositoryPaths.CopyModelsToTemp();
        try
        {
            WriteConfig(root, """{"max_batch_size": 8, "variants": [{"file": "model.int8.onnx", "precision": "int8", "device_kinds": ["cpu"]}]}""");

            var version = new ModelRepository(root, NullLogger<ModelRepository>.Instance).Read("tiny_classifier").Versions.Single();

            Assert.False(version.IsLoadable);
            Assert.Contains("model.int8.onnx (variants[0].file) is missing", version.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("""{"variants": {}}""", "variants", "must be an array")]
    [InlineData("""{"variants": [{"precision": "int8", "device_kinds": ["cpu"]}]}""", "variants[0].file", "is required")]
    [InlineData("""{"variants": [{"file": "a/b.onnx", "precision": "int8", "device_kinds": ["cpu"]}]}""", "variants[0].file", "must be a file name")]
    [InlineData("""{"variants": [{"file": "q", "precision": "int4", "device_kinds": ["cpu"]}]}""", "variants[0].precision", "must be one of: fp32, fp16, int8")]
    [InlineData("""{"variants": [{"file": "q", "precision": "int8"}]}""", "variants[0].device_kinds", "is required")]
    [InlineData("""{"variants": [{"file": "q", "precision": "int8", "device_kinds": ["tpu"]}]}""", "variants[0].device_kinds", "\"tpu\"")]
    [InlineData("""{"variants": [{"file": "q", "precision": "int8", "device_kinds": ["cpu"], "sm": 8}]}""", "variants[0].sm", "is not a known setting")]
    [InlineData("""{"variants": [{"file": "q", "precision": "int8", "device_kinds": ["cpu"]}, {"file": "q", "precision": "fp16", "device_kinds": ["cuda"]}]}""",
        "variants", "more than once")]
    [InlineData("""{"generation": {}, "variants": [{"file": "q", "precision": "int8", "device_kinds": ["cpu"]}]}""", "variants", "cannot be combined")]
    [InlineData("""{"variants": [{"file": "q", "precision": "fp16", "device_kinds": ["cuda"], "min_compute_capability": "8"}]}""",
        "variants[0].min_compute_capability", "'8' must be a CUDA compute capability written major.minor, such as \"8.0\"")]
    [InlineData("""{"variants": [{"file": "q", "precision": "fp16", "device_kinds": ["cuda"], "min_compute_capability": "8.10"}]}""",
        "variants[0].min_compute_capability", "'8.10' must be a CUDA compute capability")]
    [InlineData("""{"variants": [{"file": "q", "precision": "fp16", "device_kinds": ["cuda"], "min_compute_capability": 8.0}]}""",
        "variants[0].min_compute_capability", "must be a string")]
    [InlineData("""{"variants": [{"file": "q", "precision": "int8", "device_kinds": ["cpu"], "min_compute_capability": "8.0"}]}""",
        "variants[0].min_compute_capability", "applies to GPUs only, but device_kinds has no cuda or sim kind")]
    public void Parse_BadVariantDeclaration_NamesTheField(string json, string field, string problem)
    {
        using var document = JsonDocument.Parse(json);

        var error = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Parse("config.json", document.RootElement));

        Assert.Equal(field, error.Field);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    private static void WriteConfig(string root, string json) => File.WriteAllText(Path.Combine(root, "tiny_classifier", "config.json"), json);
}
