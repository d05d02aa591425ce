using System.Text.Json;
using Cluster.Contracts.Models;
using Cluster.Inference.Repository;
using Cluster.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cluster.Inference.Tests.Repository;

/// <summary>A model's <c>cuda</c> settings: read and checked by name, merged over the silo's, turned into ONNX Runtime's CUDA options.</summary>
public sealed class CudaProviderSettingsTests
{
    [Fact]
    public void Parse_EverySetting_ReadsEach()
    {
        var cuda = Parse(
            """{"cuda": {"memory_limit_bytes": 2147483648, "arena_extend_strategy": "same_as_requested", "cudnn_conv_algo_search": "heuristic",""" +
                """ "copy_in_default_stream": false, "cuda_graph": true}, "max_batch_size": 0}""").Cuda;
        Assert.Equal(
            new CudaProviderSettings { MemoryLimitBytes = 2L << 30, ArenaExtendStrategy = "same_as_requested", CudnnConvAlgoSearch = "heuristic",
                CopyInDefaultStream = false, CudaGraph = true }, cuda);
    }

    [Theory]
    [InlineData("""{"cuda": {"arena_extend_strategy": "double"}}""", "cuda.arena_extend_strategy",
        "'double' must be one of: next_power_of_two, same_as_requested")]
    [InlineData("""{"cuda": {"cudnn_conv_algo_search": 3}}""", "cuda.cudnn_conv_algo_search", "must be a string, got 3")]
    [InlineData("""{"cuda": {"memory_limit_bytes": 0}}""", "cuda.memory_limit_bytes", "must be at least 1")]
    [InlineData("""{"cuda": {"cuda_graph": true}, "max_batch_size": 8}""", "cuda.cuda_graph",
        "needs a fixed-shape model (max_batch_size 0), but max_batch_size is 8")]
    [InlineData("""{"cuda": {"device_id": 1}}""", "cuda.device_id", "is not a known setting")]
    [InlineData("""{"cuda": []}""", "cuda", "must be a JSON object")]
    public void Parse_BadSetting_NamesIt(string json, string field, string problem)
    {
        var error = Assert.Throws<ModelConfigException>(() => Parse(json));
        Assert.Equal(field, error.Field);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProviderOptions_ModelOverSilo_TakesEachFieldFromTheNearestLevel()
    {
        var silo = new CudaProviderSettings { MemoryLimitBytes = 1024, ArenaExtendStrategy = "next_power_of_two", CopyInDefaultStream = true };
        var model = new CudaProviderSettings { MemoryLimitBytes = 4096, CudnnConvAlgoSearch = "exhaustive", CudaGraph = false };
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["device_id"] = "3",
                ["gpu_mem_limit"] = "4096",
                ["arena_extend_strategy"] = "kNextPowerOfTwo",
                ["cudnn_conv_algo_search"] = "EXHAUSTIVE",
                ["do_copy_in_default_stream"] = "1",
                ["enable_cuda_graph"] = "0",
            },
            model.Over(silo).ProviderOptions(3));
    }

    [Fact]
    public void ProviderOptions_NothingSet_OnlyTheDeviceId() =>
        Assert.Equal(new Dictionary<string, string> { ["device_id"] = "0" }, new CudaProviderSettings().Over(new CudaProviderSettings()).ProviderOptions(0));

    [Fact]
    public void Validate_SiloSettings_NameTheConfigurationKey()
    {
        var problems = new CudaProviderSettings { MemoryLimitBytes = -1, CudnnConvAlgoSearch = "fast" }.Validate(f => $"Cluster:Devices:CudaProvider:{f}")
            .ToList();
        Assert.Equal(
            [
                "Cluster:Devices:CudaProvider:MemoryLimitBytes must be a positive number of bytes, got -1",
                "Cluster:Devices:CudaProvider:CudnnConvAlgoSearch 'fast' must be one of: exhaustive, heuristic, default",
            ],
            problems);
    }

    [Fact]
    public void Scan_BadCudaSettingInOneModel_FailsThatModelOnly()
    {
        var root = RepositoryPaths.CopyModelsToTemp();
        try
        {
            File.WriteAllText(Path.Combine(root, "wide_mlp", "config.json"), """{"max_batch_size": 32, "cuda": {"arena_extend_strategy": "grow"}}""");
            var models = new ModelRepository(root, NullLogger<ModelRepository>.Instance).Scan();
            Assert.Contains("field 'cuda.arena_extend_strategy'", models.Single(m => m.Name == "wide_mlp").Error, StringComparison.Ordinal);
            Assert.All(models.Where(m => m.Name != "wide_mlp"), m => Assert.Null(m.Error));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static ModelConfig Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ModelConfigReader.Parse("models/m/config.json", document.RootElement);
    }
}
