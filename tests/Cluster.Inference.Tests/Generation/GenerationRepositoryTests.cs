using Cluster.Contracts.Models;
using Cluster.Inference.Generation;
using Cluster.Inference.Repository;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Inference.Tests.Generation;

/// <summary>A decoder dropped into the repository as an export folder is served as a generator, its settings read from its own files.</summary>
public sealed class GenerationRepositoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("generation-repository-").FullName;

    [Fact]
    public void Read_DecoderWithoutClusterConfig_ServedAsGeneratorWithTextTensors()
    {
        var version = ExportFolder("exported");

        var model = new ModelRepository(_root, NullLogger<ModelRepository>.Instance).Read("exported");

        Assert.Null(model.Error);
        Assert.NotNull(model.Config.Generation);
        Assert.Equal(0, model.Config.MaxBatchSize);
        var served = Assert.Single(model.Versions);
        Assert.True(served.Generates, served.Error);
        Assert.Equal("text_input BYTES [1]", Assert.Single(served.Inputs).ToString());
        Assert.Equal("text_output BYTES [1]", Assert.Single(served.Outputs).ToString());
        Assert.True(File.Exists(Path.Combine(version, "model.onnx")));
    }

    [Fact]
    public void Resolve_HuggingFaceFiles_FillWhatTheClusterConfigLeavesOut()
    {
        var version = ExportFolder("exported");
        File.WriteAllText(Path.Combine(version, "config.json"), """{"eos_token_id": 7, "max_position_embeddings": 512}""");
        File.WriteAllText(Path.Combine(version, "generation_config.json"), """{"eos_token_id": [7, 9], "do_sample": false, "top_p": 0.5}""");

        var settings = GenerationSettingsResolver.Resolve(new GenerationConfig(), version, deviceMemoryBytes: 1000);

        Assert.Equal([7, 9], settings.EosTokenIds);
        Assert.Equal(512, settings.ContextLength);
        Assert.Equal(0f, settings.DefaultSampling.Temperature);
        Assert.Equal(0.5f, settings.DefaultSampling.TopP);
        Assert.Equal(100, settings.KvCacheBytes);
    }

    [Fact]
    public void Resolve_ClusterConfig_WinsOverTheModelsFiles()
    {
        var version = ExportFolder("exported");
        File.WriteAllText(Path.Combine(version, "config.json"), """{"eos_token_id": 7, "max_position_embeddings": 512}""");
        var config = new GenerationConfig { EosTokenIds = [3], ContextLength = 256, Temperature = 0.7f, KvCacheBytes = 4096 };

        var settings = GenerationSettingsResolver.Resolve(config, version, deviceMemoryBytes: 1000);

        Assert.Equal([3], settings.EosTokenIds);
        Assert.Equal(256, settings.ContextLength);
        Assert.Equal(0.7f, settings.DefaultSampling.Temperature);
        Assert.Equal(4096, settings.KvCacheBytes);
    }

    [Fact]
    public void Read_GenerationConfigWithUnknownField_FailsNamingIt()
    {
        ExportFolder("configured");
        File.WriteAllText(Path.Combine(_root, "configured", "config.json"), """{"generation": {"temprature": 0.5}}""");

        var model = new ModelRepository(_root, NullLogger<ModelRepository>.Instance).Read("configured");

        Assert.Contains("generation.temprature", model.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("false", false, null)]
    [InlineData("true", true, null)]
    [InlineData("\"no\"", true, "generation.prefix_caching")]
    public void Read_PrefixCaching_TurnsTheCacheOffOrFailsNamingIt(string value, bool expected, string? error)
    {
        var version = ExportFolder("configured");
        File.WriteAllText(Path.Combine(_root, "configured", "config.json"), $$$"""{"generation": {"prefix_caching": {{{value}}}}}""");

        var model = new ModelRepository(_root, NullLogger<ModelRepository>.Instance).Read("configured");

        if (error is not null)
        {
            Assert.Contains(error, model.Error, StringComparison.Ordinal);
            return;
        }

        Assert.Null(model.Error);
        Assert.Equal(expected, GenerationSettingsResolver.Resolve(model.Config.Generation!, version, deviceMemoryBytes: 1000).PrefixCaching);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The demo decoder's graph alone in a version folder, as an export drops it (no cluster config.json).</summary>
    private string ExportFolder(string name)
    {
        var staging = Path.Combine(_root, "..", Path.GetFileName(_root) + "-staging");
        DemoDecoder.Write(staging);
        var version = Path.Combine(_root, name, "1");
        Directory.CreateDirectory(version);
        File.Copy(Path.Combine(staging, DemoDecoder.Name, "1", "model.onnx"), Path.Combine(version, "model.onnx"));
        Directory.Delete(staging, recursive: true);
        return version;
    }
}
