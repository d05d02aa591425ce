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
}
