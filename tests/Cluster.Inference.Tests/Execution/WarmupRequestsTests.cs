using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Execution;

namespace Cluster.Inference.Tests.Execution;

public sealed class WarmupRequestsTests
{
    private static readonly ModelVersionDescriptor Version = new()
    {
        Version = 1,
        Inputs = [new TensorSpec { Name = "ids", ElementType = TensorElementType.Int64, Shape = [-1, -1] }],
        Outputs = [new TensorSpec { Name = "out", ElementType = TensorElementType.Int64, Shape = [-1, -1] }],
    };

    [Fact]
    public void Build_NoneConfigured_OneZeroRequestWithDynamicDimensionsOne()
    {
        var request = Assert.Single(WarmupRequests.Build(new ModelConfig { MaxBatchSize = 8 }, Version, "/nonexistent"));
        Assert.False(request.Required);
        Assert.Equal([1L, 1L], request.Inputs[0].Shape);
        Assert.Equal(new long[1], request.Inputs[0].AsInt64());
    }

    [Fact]
    public void Build_Configured_PrependsBatchSizeToDims()
    {
        var config = new ModelConfig
        {
            MaxBatchSize = 8,
            Warmup = [new WarmupSetting { Name = "w", BatchSize = 4, Count = 3,
                Inputs = [new WarmupInput { Name = "ids", ElementType = TensorElementType.Int64, Dims = [16], Data = WarmupData.Random }] }],
        };
        var request = Assert.Single(WarmupRequests.Build(config, Version, "/nonexistent"));
        Assert.True(request.Required);
        Assert.Equal(3, request.Count);
        Assert.Equal([4L, 16L], request.Inputs[0].Shape);
        Assert.All(request.Inputs[0].AsInt64(), v => Assert.InRange(v, 0, 7));
    }

    [Fact]
    public void Build_WrongInputName_NamesWarmupAndInput()
    {
        var config = new ModelConfig
        {
            MaxBatchSize = 8,
            Warmup = [new WarmupSetting { Name = "w",
                Inputs = [new WarmupInput { Name = "tokens", ElementType = TensorElementType.Int64, Dims = [4], Data = WarmupData.Zero }] }],
        };
        var error = Assert.Throws<ArgumentException>(() => WarmupRequests.Build(config, Version, "/nonexistent"));
        Assert.Equal("Warm-up 'w' gives no data for input 'ids'.", error.Message);
    }

    [Fact]
    public void Build_FileOfWrongSize_NamesFileAndSizes()
    {
        var directory = Directory.CreateTempSubdirectory("warmup-").FullName;
        File.WriteAllBytes(Path.Combine(directory, "ids.bin"), new byte[12]);
        var config = new ModelConfig
        {
            MaxBatchSize = 8,
            Warmup = [new WarmupSetting { Name = "w",
                Inputs = [new WarmupInput { Name = "ids", ElementType = TensorElementType.Int64, Dims = [2], Data = WarmupData.File, File = "ids.bin" }] }],
        };
        var error = Assert.Throws<ArgumentException>(() => WarmupRequests.Build(config, Version, directory));
        Assert.Contains("has 12 bytes; shape [1,2] needs 16", error.Message, StringComparison.Ordinal);
    }
}
