using System.Runtime.CompilerServices;
using Cluster.Contracts.Devices;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Telemetry;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Grains.Devices;

/// <summary>
/// The session pool of a model version loaded on a device of this silo, with the rules every batch on that device follows:
/// an out-of-service device refuses it, it runs in a <c>device.run</c> span within the devices' batch timeout, a model error
/// is the caller's (<see cref="ModelExecutionException"/>), and a fault or a hang takes the device out of service. Run by its
/// device grain and, without a turn of that grain, by the replicas on the silo (<see cref="LocalSessionPools"/>). Thread-safe.
/// </summary>
/// <param name="device">The device's key, <c>{silo}/{device}</c>.</param>
/// <param name="descriptor">The device, whose health is read on every batch.</param>
/// <param name="model">The model the sessions run.</param>
/// <param name="version">The model's version.</param>
/// <param name="sessionPool">The version's shared sessions (empty) or an experiment arm's own.</param>
/// <param name="pool">The session instances.</param>
/// <param name="localDevices">The silo's devices: health and batch timeout.</param>
/// <param name="batchesRun">The device's count of batches run, shown in its status.</param>
public sealed class DeviceSessions(
    string device,
    DeviceDescriptor descriptor,
    string model,
    long version,
    string sessionPool,
    ModelInstancePool pool,
    LocalDevices localDevices,
    StrongBox<long> batchesRun)
{
    /// <summary>The device's key, <c>{silo}/{device}</c>.</summary>
    public string Device => device;

    /// <summary>The model the sessions run.</summary>
    public string Model => model;

    /// <summary>The model's version.</summary>
    public long Version => version;

    /// <summary>The version's shared sessions (empty) or an experiment arm's own.</summary>
    public string SessionPool => sessionPool;

    /// <summary>The session instances.</summary>
    public ModelInstancePool Pool => pool;

    /// <summary>
    /// Runs validated requests of equal shape as one batch on a free session instance. When the device faults or the batch
    /// outlasts the timeout, <paramref name="quarantine"/> takes the device out of service (on its grain, awaited where this
    /// was called) and the batch throws <see cref="DeviceFaultException"/>, so its replica may run it on another device.
    /// </summary>
    public async Task<BatchResult> RunAsync(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames, Func<string, Task> quarantine)
    {
        if (localDevices.HealthOf(descriptor) is (DeviceHealth.Unhealthy, var reason))
        {
            throw OutOfService(device, reason);
        }

        using var span = InferenceTracing.Source.StartActivity("device.run");
        span?.SetTag("device", device);
        span?.SetTag("requests", requests.Count);
        var timeout = TimeSpan.FromMilliseconds(localDevices.Options.BatchTimeoutMilliseconds);
        string fault;
        try
        {
            var result = await pool.RunAsync(requests, outputNames, timeout);
            Interlocked.Increment(ref batchesRun.Value);
            return result;
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelExecutionException($"Model '{model}' version {version} failed on device '{device}': {e.Message}");
        }
        catch (DeviceFaultException e)
        {
            fault = e.Message;
        }
        catch (TimeoutException)
        {
            fault = $"a batch of {model}:{version} did not finish within {timeout.TotalMilliseconds:0} ms";
        }

        await quarantine(fault);
        throw OutOfService(device, fault);
    }

    /// <summary>The refusal of a batch by a device out of service.</summary>
    public static DeviceFaultException OutOfService(string device, string? reason) => new($"Device '{device}' is out of service: {reason}");
}
