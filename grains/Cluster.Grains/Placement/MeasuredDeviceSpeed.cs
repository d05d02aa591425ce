using Cluster.Contracts.Load;


namespace Cluster.Grains.Placement;

/// <summary>
/// A device's speed for one model as placement weighs it: measured where a replica of the model runs on the device,
/// the configured speed elsewhere. Measured throughputs (items/s) are put on the configured scale (1 = a T4) by the
/// model's items/s per unit of configured speed over all its measured replicas, so a device measured faster than
/// its configuration says gains weight and one measured slower loses it, while unmeasured devices keep their guess.
/// </summary>
public static class MeasuredDeviceSpeed
{
    /// <summary>The speed of each measured device for <paramref name="model"/>, by (silo, device); devices absent keep their configured speed.</summary>
    public static Dictionary<(string Silo, string Device), double> For(string model, IReadOnlyList<SiloLoad> silos)
    {
        ArgumentNullException.ThrowIfNull(silos);
        var measured = new Dictionary<(string Silo, string Device), (double ItemsPerSecond, double Configured)>();
        foreach (var silo in silos)
        {
            foreach (var replica in silo.Replicas)
            {
                var device = Array.Find(silo.Devices, d => d.Name == replica.Device);
                if (replica.Model == model && replica.MeasuredCapacity > 0 && device is { Speed: > 0 })
                {
                    // Capacity is the configured speed shared among busy replicas: the same share undoes both.
                    var itemsPerSecond = replica.MeasuredCapacity * device.Speed / replica.Capacity;
                    var key = (silo.Silo, device.Name);
                    measured[key] = (Math.Max(itemsPerSecond, measured.GetValueOrDefault(key).ItemsPerSecond), device.Speed);
                }
            }
        }

        var perUnitOfSpeed = measured.Values.Sum(m => m.ItemsPerSecond) / Math.Max(measured.Values.Sum(m => m.Configured), double.Epsilon);
        return measured.ToDictionary(m => m.Key, m => m.Value.ItemsPerSecond / perUnitOfSpeed);
    }
}
