using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Repository;
using Cluster.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Inference.Tests.Repository;

public sealed class ModelRepositoryTests : IDisposable
{
    private readonly string _root = RepositoryPaths.CopyModelsToTemp();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Scan_DemoRepository_ReadsTensorsFromOnnxFiles()
    {
        var models = Repository().Scan();
        Assert.Equal(["int64_scale", "tiny_classifier", "two_in_two_out", "type_zoo", "wide_mlp"], models.Select(m => m.Name));
        var tiny = models.Single(m => m.Name == "tiny_classifier");
        Assert.Equal(8, tiny.Config.MaxBatchSize);
        var version = Assert.Single(tiny.Versions);
        Assert.Equal(1, version.Version);
        Assert.Equal("features FP32 [-1,4]", Assert.Single(version.Inputs).ToString());
        Assert.Equal("probabilities FP32 [-1,3]", Assert.Single(version.Outputs).ToString());
        var zoo = models.Single(m => m.Name == "type_zoo").Versions[0];
        Assert.Equal(
            [TensorElementType.Float16, TensorElementType.Bool, TensorElementType.UInt8, TensorElementType.Int32, TensorElementType.String],
            zoo.Inputs.Select(i => i.ElementType));
    }

    [Fact]
    public void Scan_CorruptOnnx_ReportsOnnxRuntimeErrorAndKeepsOthers()
    {
        RepositoryPaths.AddCorruptModel(_root, "broken");
        var models = Repository().Scan();
        var broken = models.Single(m => m.Name == "broken").Versions[0];
        Assert.False(broken.IsLoadable);
        Assert.Contains("ONNX Runtime cannot load", broken.Error, StringComparison.Ordinal);
        Assert.Contains("protobuf", broken.Error, StringComparison.OrdinalIgnoreCase);
        Assert.True(models.Single(m => m.Name == "tiny_classifier").Versions[0].IsLoadable);
    }

    [Fact]
    public void Read_BadConfig_ReportsFileAndFieldOnTheModel()
    {
        File.WriteAllText(Path.Combine(_root, "tiny_classifier", "config.json"), """{"max_batch_size": -4}""");
        var model = Repository().Read("tiny_classifier");
        Assert.Contains(Path.Combine("tiny_classifier", "config.json"), model.Error, StringComparison.Ordinal);
        Assert.Contains("field 'max_batch_size'", model.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NoConfigAndDynamicBatch_DefaultsMaxBatchSize()
    {
        File.Delete(Path.Combine(_root, "tiny_classifier", "config.json"));
        var model = Repository().Read("tiny_classifier");
        Assert.Null(model.Error);
        Assert.Equal(ModelRepository.DefaultMaxBatchSize, model.Config.MaxBatchSize);
    }

    [Fact]
    public void Read_VersionsAndPolicy_ServesNewestAndSkipsNonNumericFolders()
    {
        var model = Path.Combine(_root, "tiny_classifier");
        Directory.CreateDirectory(Path.Combine(model, "3"));
        File.Copy(Path.Combine(model, "1", "model.onnx"), Path.Combine(model, "3", "model.onnx"));
        Directory.CreateDirectory(Path.Combine(model, "latest"));
        var descriptor = Repository().Read("tiny_classifier");
        Assert.Equal([3L, 1L], descriptor.Versions.Select(v => v.Version));
        Assert.Equal([3L], descriptor.ServedVersions.Select(v => v.Version));
    }

    [Fact]
    public void Read_VersionFolderWithoutModelFile_ReportsMissingFile()
    {
        Directory.CreateDirectory(Path.Combine(_root, "tiny_classifier", "2"));
        var version = Repository().Read("tiny_classifier").Versions[0];
        Assert.Equal(2, version.Version);
        Assert.Contains("model.onnx is missing", version.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    public void ModelFile_PathTraversal_Rejected(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => Repository().ModelFile(name, 1));
        Assert.Contains($"Model name '{name}' is invalid", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnknownModel_ThrowsModelNotFound()
    {
        var error = Assert.Throws<ModelNotFoundException>(() => Repository().Read("nope"));
        Assert.Contains("Model 'nope' is not in the repository", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Scan_FixedFirstDimensionWithBatching_ReportsVersionError()
    {
        var onnx = new Cluster.Inference.Onnx.OnnxGraphBuilder("fixed")
            .Input("x", Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType.Float, 2, 2)
            .Output("y", Cluster.Inference.Onnx.Proto.TensorProto.Types.DataType.Float, 2, 2)
            .Node("Identity", ["x"], ["y"])
            .Build("fixed");
        Directory.CreateDirectory(Path.Combine(_root, "fixed", "1"));
        File.WriteAllBytes(Path.Combine(_root, "fixed", "1", "model.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(onnx));
        File.WriteAllText(Path.Combine(_root, "fixed", "config.json"), """{"max_batch_size": 4}""");
        var version = Repository().Read("fixed").Versions[0];
        Assert.Contains("needs a dynamic first dimension", version.Error, StringComparison.Ordinal);

        File.Delete(Path.Combine(_root, "fixed", "config.json"));
        var defaulted = Repository().Read("fixed");
        Assert.Equal(0, defaulted.Config.MaxBatchSize);
        Assert.True(defaulted.Versions[0].IsLoadable);
    }

    [Theory]
    [InlineData("tiny_classifier", true)]
    [InlineData("model-2.v1", true)]
    [InlineData("_hidden", false)]
    [InlineData("a b", false)]
    public void ModelName_IsValid(string name, bool valid) => Assert.Equal(valid, ModelName.IsValid(name));

    private ModelRepository Repository() => new(_root, NullLogger<ModelRepository>.Instance);
}
