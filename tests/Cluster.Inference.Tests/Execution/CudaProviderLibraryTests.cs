using Cluster.Inference.Execution;

namespace Cluster.Inference.Tests.Execution;

/// <summary>The CUDA provider library that CUDA graph copies register is found where a built or a published app keeps it.</summary>
public sealed class CudaProviderLibraryTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("cuda-provider-").FullName;

    [Fact]
    public void Find_ABuiltApplication_FindsTheLibraryInItsRuntimesFolder()
    {
        var found = CudaProviderLibrary.Find(AppContext.BaseDirectory);

        Assert.NotNull(found);
        Assert.True(File.Exists(found));
        Assert.Equal(CudaProviderLibrary.FileName, Path.GetFileName(found));
        Assert.Contains($"{Path.DirectorySeparatorChar}runtimes{Path.DirectorySeparatorChar}", found, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_APublishedApplication_PrefersTheLibraryBesideIt()
    {
        var beside = Path.Combine(_folder, CudaProviderLibrary.FileName);
        File.WriteAllBytes(beside, []);
        var native = Directory.CreateDirectory(Path.Combine(_folder, "runtimes", "linux-x64", "native")).FullName;
        File.WriteAllBytes(Path.Combine(native, CudaProviderLibrary.FileName), []);

        Assert.Equal(beside, CudaProviderLibrary.Find(_folder));
    }

    [Fact]
    public void Find_NoLibrary_ReturnsNull() => Assert.Null(CudaProviderLibrary.Find(_folder));

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
