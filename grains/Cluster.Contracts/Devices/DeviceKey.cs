namespace Cluster.Contracts.Devices;

/// <summary>A device grain key, <c>{silo}/{device}</c>, e.g. <c>gpu-a/cuda:0</c>, <c>node-1/cpu:0</c>, <c>sim-1/sim:t4:2</c>.</summary>
public readonly record struct DeviceKey(string Silo, string Device)
{
    /// <summary>Parses <c>{silo}/{device}</c>; throws naming the key when it is malformed.</summary>
    public static DeviceKey Parse(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == key.Length - 1)
        {
            throw new FormatException($"Device key '{key}' is not of the form '{{silo}}/{{device}}'.");
        }

        var device = key[(slash + 1)..];
        var colon = device.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(device.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            throw new FormatException($"Device '{device}' in key '{key}' is not of the form '{{kind}}:{{index}}'.");
        }

        return new DeviceKey(key[..slash], device);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Silo}/{Device}";
}
