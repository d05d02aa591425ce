using Cluster.Inference.Onnx;
using Cluster.Tests.Shared;

namespace Cluster.Inference.Tests.Onnx;

public sealed class DemoModelsTests
{
    [Fact]
    public void WriteAll_RebuildsCommittedRepository_ByteIdentical()
    {
        var rebuilt = Directory.CreateTempSubdirectory("demo-models-").FullName;
        try
        {
            DemoModels.WriteAll(rebuilt);
            var expected = Directory.EnumerateFiles(RepositoryPaths.Models, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(RepositoryPaths.Models, f)).Order(StringComparer.Ordinal).ToArray();
            var actual = Directory.EnumerateFiles(rebuilt, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(rebuilt, f)).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(expected, actual);
            foreach (var file in expected)
            {
                Assert.True(
                    File.ReadAllBytes(Path.Combine(RepositoryPaths.Models, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(rebuilt, file))),
                    $"{file} differs from what DemoModels writes; " +
                    "regenerate with: dotnet run --project silo/Cluster.Silo -- --write-demo-models deploy/models");
            }
        }
        finally
        {
            Directory.Delete(rebuilt, recursive: true);
        }
    }

    [Fact]
    public void WideMlp_FileStaysSmallEnoughToCommit()
    {
        var size = new FileInfo(Path.Combine(RepositoryPaths.Models, "wide_mlp", "1", "model.onnx")).Length;
        Assert.InRange(size, 2_000_000, 3_000_000);
    }
}
