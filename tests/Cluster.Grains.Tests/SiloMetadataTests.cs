using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace Cluster.Grains.Tests;

/// <summary>Each silo's <c>Orleans:Metadata</c> reaches every other silo through Orleans' metadata cache.</summary>
public sealed class SiloMetadataTests
{
    private static readonly Dictionary<string, string>[] Metadata =
    [
        new() { ["cloud"] = "aws", ["region"] = "us-east-1", ["zone"] = "us-east-1a", ["accelerator"] = "h100", ["speed"] = "4", ["cost_per_hour"] = "12.5" },
        new() { ["cloud"] = "gcp", ["region"] = "europe-west4", ["zone"] = "europe-west4-a", ["accelerator"] = "l4", ["speed"] = "1.5",
            ["cost_per_hour"] = "0.9" },
    ];

    [Fact]
    public async Task TwoSilos_WithDifferentMetadata_SeeEachOthersMetadata()
    {
        string[] names = ["meta-aws", "meta-gcp"];
        await using var cluster = await InProcessCluster.StartAsync(
            names,
            i => Metadata[i].ToDictionary(p => "Orleans:Metadata:" + p.Key, p => (string?)p.Value));

        foreach (var observer in cluster.Silos)
        {
            var seen = await WaitForMetadataAsync(observer.Services, names);
            for (var i = 0; i < names.Length; i++)
            {
                Assert.Equal(Metadata[i], seen[names[i]]);
            }
        }
    }

    /// <summary>The metadata the observer's cache holds for each named silo, once it holds all of them.</summary>
    private static async Task<Dictionary<string, Dictionary<string, string>>> WaitForMetadataAsync(IServiceProvider observer, string[] names)
    {
        var membership = observer.GetRequiredService<IClusterMembershipService>();
        var cache = observer.GetRequiredService<ISiloMetadataCache>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var seen = membership.CurrentSnapshot.Members.Values
                .Where(m => m.Status == SiloStatus.Active)
                .ToDictionary(m => m.Name, m => cache.GetSiloMetadata(m.SiloAddress).Metadata.ToDictionary());
            if (names.All(n => seen.TryGetValue(n, out var metadata) && metadata.Count > 0))
            {
                return seen;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Metadata seen after 30 s: {string.Join("; ", seen.Select(s => $"{s.Key}: {s.Value.Count} keys"))}");
            await Task.Delay(100);
        }
    }
}
