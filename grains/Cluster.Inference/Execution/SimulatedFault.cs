using Cluster.Contracts.Errors;
using Cluster.Inference.Devices;

namespace Cluster.Inference.Execution;

/// <summary>
/// The fault one simulated device injects, per <see cref="SimulatedFaultSettings"/>. Shared by every
/// model on the device, since the fault is the device's. Thread-safe.
/// </summary>
public sealed class SimulatedFault(string deviceName, SimulatedFaultSettings settings)
{
    private readonly Random _random = new(deviceName.Aggregate(17, (hash, c) => unchecked((hash * 31) + c)));
    private long _batches;

    /// <summary>Called before each batch: throws or blocks when this batch falls in the fault window.</summary>
    public void BeforeBatch()
    {
        if (settings.Mode == "none")
        {
            return;
        }

        var batch = Interlocked.Increment(ref _batches);
        var inWindow = batch > settings.AfterBatches && (settings.ForBatches == 0 || batch <= settings.AfterBatches + settings.ForBatches);
        bool strikes;
        lock (_random)
        {
            strikes = inWindow && _random.NextDouble() < settings.Probability;
        }

        if (!strikes)
        {
            return;
        }

        if (settings.Mode == "throw")
        {
            throw new DeviceFaultException($"Simulated device '{deviceName}' failed batch {batch} (injected fault).");
        }

        Thread.Sleep(settings.HangMilliseconds);
    }
}
