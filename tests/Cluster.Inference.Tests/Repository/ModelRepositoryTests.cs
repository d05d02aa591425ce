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
    public void Scan_ConfigThatCannotBeRead_FailsThatModelOnly()
    {
        // /proc/self/mem answers every read at offset 0 with an I/O error, even for root (whom permissions do not stop).
        var config = Path.Combine(_root, "wide_mlp", "config.json");
        File.Delete(config);
        File.CreateSymbolicLink(config, "/proc/self/mem");

        var models = Repository().Scan();

        var unreadable = models.Single(m => m.Name == "wide_mlp");
        Assert.Empty(unreadable.Versions);
        Assert.StartsWith($"Model 'wide_mlp' cannot be read from '{Path.Combine(_root, "wide_mlp")}': ", unreadable.Error, StringComparison.Ordinal);
        Assert.All(models.Where(m => m.Name != "wide_mlp"), m => Assert.Null(m.Error));
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

    [Fact]
    public void Scan_SeveralRoots_ServesTheUnionAndRefusesANameFoundTwice()
    {
        var second = Directory.CreateTempSubdirectory("cluster-models-").FullName;
        try
        {
            CopyModel("tiny_classifier", second, "tiny_copy");
            CopyModel("tiny_classifier", second, "wide_mlp");
            var models = new ModelRepository([_root, second], NullLogger<ModelRepository>.Instance).Scan();

            Assert.Null(models.Single(m => m.Name == "tiny_copy").Error);
            Assert.Null(models.Single(m => m.Name == "tiny_classifier").Error);
            var twice = models.Single(m => m.Name == "wide_mlp");
            Assert.Contains("more than one repository folder", twice.Error, StringComparison.Ordinal);
            Assert.Contains(second, twice.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(second, recursive: true);
        }
    }

    [Fact]
    public void Read_TextEmbedding_ServesTextInAndEmbeddingsOut()
    {
        var model = new ModelRepository(RepositoryPaths.BundledModels, NullLogger<ModelRepository>.Instance).Read("all-MiniLM-L6-v2-embeddings");

        var version = Assert.Single(model.Versions);
        Assert.Null(version.Error);
        Assert.Equal("text BYTES [-1]", Assert.Single(version.Inputs).ToString());
        Assert.Equal("embedding FP32 [-1,384]", Assert.Single(version.Outputs).ToString());
    }

    [Fact]
    public void Read_TextEmbeddingOverANonEncoder_FailsTheVersionSayingWhy()
    {
        File.WriteAllText(Path.Combine(_root, "tiny_classifier", "config.json"), """{"max_batch_size": 8, "text_embedding": {"dimensions": 3}}""");

        var version = Repository().Read("tiny_classifier").Versions.Single();

        Assert.Contains("model.onnx: text_embedding cannot feed encoder input 'features FP32 [-1,4]'", version.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TextEmbeddingWithoutVocabulary_FailsTheVersionNamingTheFile()
    {
        var encoder = Path.Combine(_root, "encoder");
        CopyModel("all-MiniLM-L6-v2", _root, "encoder", RepositoryPaths.BundledModels);
        File.WriteAllText(Path.Combine(encoder, "config.json"), """{"max_batch_size": 8, "text_embedding": {"dimensions": 384}}""");

        var version = Repository().Read("encoder").Versions.Single();

        Assert.Equal($"{Path.Combine(encoder, "1", "vocab.txt")} (text_embedding.vocabulary) is missing.", version.Error);
    }

    private static void CopyModel(string model, string toRoot, string asName, string? fromRoot = null)
    {
        var version = Path.Combine(toRoot, asName, "1");
        Directory.CreateDirectory(version);
        File.Copy(Path.Combine(fromRoot ?? RepositoryPaths.Models, model, "1", "model.onnx"), Path.Combine(version, "model.onnx"));
    }

    private ModelRepository Repository() => new(_root, NullLogger<ModelRepository>.Instance);
}
