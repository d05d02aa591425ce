using Cluster.Grains.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Cluster.Grains.Tests.State;

/// <summary>The single-node state store on real files: what it writes, and what it does with a file a crash or a disk left damaged.</summary>
public sealed class JsonFileGrainStorageTests : IDisposable
{
    private static readonly GrainId Grain = GrainId.Create("registry", "catalog");

    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-state-store-").FullName;

    private readonly FakeLogger<JsonFileGrainStorage> _logger = new();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Write_ThenRead_RoundTripsAndLeavesOnlyTheStateFile()
    {
        var storage = Storage();
        var written = new GrainState<AdminIntent>(new AdminIntent { DrainingSilos = ["silo-a"] });
        await storage.WriteStateAsync("admin", Grain, written);

        var read = new GrainState<AdminIntent>(new AdminIntent());
        await Storage().ReadStateAsync("admin", Grain, read);

        Assert.Equal(["silo-a"], read.State!.DrainingSilos);
        Assert.Equal(written.ETag, read.ETag);
        Assert.True(read.RecordExists);
        Assert.Equal(["admin-registry_catalog.json"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("{\n  \"ETag\": \"3\",\n  \"State\": {\n    \"DrainingSi")]
    [InlineData("")]
    [InlineData("\0\0\0\0\0\0\0\0")]
    [InlineData("{\"Something\": 1}")]
    public async Task Read_CorruptOrTruncatedFile_MovesItAsideLogsAnErrorAndStartsFromDefaults(string content)
    {
        var storage = Storage();
        await storage.WriteStateAsync("admin", Grain, new GrainState<AdminIntent>(new AdminIntent { DrainingSilos = ["silo-a"] }));
        var file = Directory.GetFiles(_directory).Single();
        await File.WriteAllTextAsync(file, content);

        var read = new GrainState<AdminIntent>(new AdminIntent());
        await Storage().ReadStateAsync("admin", Grain, read);

        Assert.False(read.RecordExists);
        Assert.Empty(read.State!.DrainingSilos);
        Assert.False(File.Exists(file));
        var aside = Assert.Single(Directory.GetFiles(_directory, "admin-registry_catalog.json.corrupt-*"));
        Assert.Equal(content, await File.ReadAllTextAsync(aside));
        var error = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Error);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
        Assert.Contains(aside, error.Message, StringComparison.Ordinal);

        // The next decision is saved over the defaults as a fresh record.
        await Storage().WriteStateAsync("admin", Grain, new GrainState<AdminIntent>(new AdminIntent { DrainingSilos = ["silo-b"] }));
        var again = new GrainState<AdminIntent>(new AdminIntent());
        await Storage().ReadStateAsync("admin", Grain, again);
        Assert.Equal(["silo-b"], again.State!.DrainingSilos);
    }

    private JsonFileGrainStorage Storage() => new(_directory, _logger);
}
