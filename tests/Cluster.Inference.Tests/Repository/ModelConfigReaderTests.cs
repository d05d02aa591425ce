using System.Text.Json;
using Cluster.Contracts.Models;
using Cluster.Inference.Repository;

namespace Cluster.Inference.Tests.Repository;

public sealed class ModelConfigReaderTests
{
    [Fact]
    public void Parse_AllSettings_ReadsEach()
    {
        var config = Parse("""{"max_batch_size": 16, "instance_count": 2, "device_kinds": ["cuda", "sim:t4"], "version_policy": {"specific": {"versions": [1, 3]}}, "min_replicas": 2, "max_replicas": 4}""");
        Assert.Equal(16, config.MaxBatchSize);
        Assert.Equal(2, config.InstanceCount);
        Assert.Equal(["cuda", "sim:t4"], config.DeviceKinds);
        Assert.Equal(VersionPolicyKind.Specific, config.VersionPolicy.Kind);
        Assert.Equal([1L, 3L], config.VersionPolicy.Versions);
        Assert.Equal((2, 4), (config.MinReplicas, config.MaxReplicas));
    }

    [Fact]
    public void Parse_Empty_UsesDefaults()
    {
        var config = Parse("{}");
        Assert.Equal(0, config.MaxBatchSize);
        Assert.Equal(1, config.InstanceCount);
        Assert.Equal(VersionPolicyKind.Latest, config.VersionPolicy.Kind);
        Assert.Equal(1, config.VersionPolicy.LatestCount);
    }

    [Theory]
    [InlineData("""{"max_batch_size": -1}""", "max_batch_size", "must be at least 0, got -1")]
    [InlineData("""{"max_batch_size": "8"}""", "max_batch_size", "must be an integer")]
    [InlineData("""{"instance_count": 0}""", "instance_count", "must be at least 1")]
    [InlineData("""{"max_batch_sise": 8}""", "max_batch_sise", "is not a known setting")]
    [InlineData("""{"device_kinds": ["tpu"]}""", "device_kinds", "\"tpu\"")]
    [InlineData("""{"version_policy": {"newest": {}}}""", "version_policy.newest", "is not a version policy")]
    [InlineData("""{"version_policy": {"latest": {}}}""", "version_policy.latest.num_versions", "is required")]
    [InlineData("""{"min_replicas": 3, "max_replicas": 2}""", "min_replicas", "must not exceed max_replicas")]
    public void Parse_BadField_NamesFileAndField(string json, string field, string problem)
    {
        var error = Assert.Throws<ModelConfigException>(() => Parse(json));
        Assert.Equal("models/m/config.json", error.File);
        Assert.Equal(field, error.Field);
        Assert.StartsWith($"models/m/config.json: field '{field}' ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_InvalidJson_NamesFile()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "{ max_batch_size: 8");
        var error = Assert.Throws<ModelConfigException>(() => ModelConfigReader.Read(file));
        Assert.Equal(file, error.File);
        Assert.Contains("is not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VersionPolicy_Select_PicksNewestFirst()
    {
        long[] available = [1, 3, 2];
        Assert.Equal([3L, 2L], VersionPolicy.Latest(2).Select(available));
        Assert.Equal([3L, 2L, 1L], VersionPolicy.All().Select(available));
        Assert.Equal([3L, 1L], VersionPolicy.Specific(1, 3, 9).Select(available));
    }

    private static ModelConfig Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return ModelConfigReader.Parse("models/m/config.json", document.RootElement);
    }
}
