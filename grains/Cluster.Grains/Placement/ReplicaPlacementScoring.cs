using System.Globalization;
using Cluster.Contracts.Load;
using Cluster.Contracts.Models;

namespace Cluster.Grains.Placement;

/// <summary>What is being placed: a replica of a model version needing some device memory, asked from a region.</summary>
public sealed record PlacementRequest(string Model, long Version, ModelConfig Config, long MemoryBytes, string Region = "")
{
    /// <summary>
    /// A replica of a model version whose file is <paramref name="modelBytes"/> long: it needs that much device memory
    /// per instance, and a generation model one instance plus its configured KV cache (a share of the device's memory
    /// when none is configured, which fits any device by definition).
    /// </summary>
    public static PlacementRequest ForReplica(string model, long version, ModelConfig config, long modelBytes, string region = "")
    {
        ArgumentNullException.ThrowIfNull(config);
        var memory = config.Generation is { } generation ? modelBytes + generation.KvCacheBytes : modelBytes * config.InstanceCount;
        return new(model, version, config, memory, region);
    }
}

/// <summary>A silo that can host the replica, with its score, the speed of its eligible devices and the replicas of the model it has.</summary>
public sealed record PlacementScore(string Silo, double Score, double Speed, int ReplicasOfModel);

/// <summary>
/// Scores the silos for a new model replica. Only silos that can host it count: not draining, with a
/// healthy device of a kind the model allows and enough free memory on it (a device whose memory is unknown is
/// never excluded for it: its silo logged the unknown figure at start). The score is
/// <c>spare capacity × cost factor × locality factor ÷ (1 + replicas of the model on the silo)³ ÷ (1 + ½ × replicas of the model elsewhere in its zone)</c>,
/// where spare capacity sums speed × idle fraction over the silo's devices the replica could use (speed for this model as
/// <see cref="MeasuredDeviceSpeed"/> gives it: measured where the model runs, configured elsewhere), the cost factor 1 / (1 + 0.05 × cost per hour),
/// and the locality factor 1.25 in the asking silo's region. Ties go to the silo with fewer replicas of
/// the model, then the faster device, then the name in ordinal order, so equal inputs give equal outcomes.
/// </summary>
public static class ReplicaPlacementScoring
{
    /// <summary>How much a unit of cost per hour discounts a silo.</summary>
    public const double CostWeight = 0.05;

    /// <summary>The bonus for a silo in the asking silo's region.</summary>
    public const double LocalityBonus = 0.25;

    /// <summary>
    /// How strongly replicas of one model spread over silos: with 3, a second replica on a 4× silo scores
    /// 4/8 and loses to a first one on a 1× silo, so three replicas on 1×, 2×, 4× silos take one each.
    /// </summary>
    public const double SpreadExponent = 3;

    /// <summary>How much each replica of the model in the same zone, on another silo, discounts a silo.</summary>
    public const double ZoneSpread = 0.5;

    /// <summary>A busy device still offers this fraction of its speed, so load never hides capacity entirely.</summary>
    public const double MinimumIdle = 0.05;

    /// <summary>The silos able to host the replica, best first; empty when none can.</summary>
    public static IReadOnlyList<PlacementScore> Rank(PlacementRequest request, IEnumerable<SiloLoad> silos, IReadOnlySet<string> draining,
        IReadOnlyDictionary<string, string>? extraReplicas = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(silos);
        var all = silos.ToList();
        var replicasOn = ReplicasOfModel(request.Model, all, extraReplicas);
        var zoneOf = all.ToDictionary(s => s.Silo, s => s.Metadata.GetValueOrDefault("zone", ""), StringComparer.Ordinal);
        var measured = MeasuredDeviceSpeed.For(request.Model, all);
        var scores = new List<PlacementScore>();
        foreach (var silo in all)
        {
            if (draining.Contains(silo.Silo))
            {
                continue;
            }

            var devices = DevicePreference.Eligible(
                silo.Devices.Where(d => d.MemoryTotalBytes == 0 || d.MemoryFreeBytes >= request.MemoryBytes),
                request.Config,
                d => d.Kind,
                d => d.Healthy);
            if (devices.Count == 0)
            {
                continue;
            }

            var onSilo = replicasOn.GetValueOrDefault(silo.Silo);
            var zone = zoneOf[silo.Silo];
            var elsewhereInZone = zone.Length == 0 ? 0 : replicasOn.Where(r => r.Key != silo.Silo && zoneOf.GetValueOrDefault(r.Key) == zone).Sum(r => r.Value);
            double SpeedOf(DeviceLoad d) => measured.GetValueOrDefault((silo.Silo, d.Name), d.Speed);
            var spare = devices.Sum(d => SpeedOf(d) * Math.Max(MinimumIdle, 1 - d.BusyFraction));
            var cost = Number(silo.Metadata.GetValueOrDefault("cost_per_hour"));
            var region = silo.Metadata.GetValueOrDefault("region", "");
            var score = spare
                / (1 + (CostWeight * cost))
                * (request.Region.Length > 0 && region == request.Region ? 1 + LocalityBonus : 1)
                / Math.Pow(1 + onSilo, SpreadExponent)
                / (1 + (ZoneSpread * elsewhereInZone));
            scores.Add(new PlacementScore(silo.Silo, score, devices.Sum(SpeedOf), onSilo));
        }

        scores.Sort(Better);
        return scores;
    }

    private static int Better(PlacementScore a, PlacementScore b)
    {
        if (Math.Abs(a.Score - b.Score) > 1e-9 * Math.Max(a.Score, b.Score))
        {
            return b.Score.CompareTo(a.Score);
        }

        return a.ReplicasOfModel != b.ReplicasOfModel ? a.ReplicasOfModel.CompareTo(b.ReplicasOfModel)
            : a.Speed != b.Speed ? b.Speed.CompareTo(a.Speed)
            : string.CompareOrdinal(a.Silo, b.Silo);
    }

    /// <summary>Replicas of the model (any version) per silo: those the board lists plus <paramref name="extra"/> (replica key → silo) placed since.</summary>
    private static Dictionary<string, int> ReplicasOfModel(string model, List<SiloLoad> silos, IReadOnlyDictionary<string, string>? extra)
    {
        var where = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var silo in silos)
        {
            foreach (var replica in silo.Replicas)
            {
                if (replica.Model == model)
                {
                    where[replica.Key] = silo.Silo;
                }
            }
        }

        foreach (var (key, silo) in extra ?? new Dictionary<string, string>())
        {
            if (key.StartsWith(model + ":", StringComparison.Ordinal))
            {
                where[key] = silo;
            }
        }

        return where.Values.GroupBy(s => s, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }

    private static double Number(string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0 ? number : 0;
}
