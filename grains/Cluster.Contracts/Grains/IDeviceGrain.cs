using Cluster.Contracts.Devices;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Contracts.Grains;

/// <summary>
/// One accelerator, keyed <c>{silo}/{device}</c> (e.g. <c>gpu-a/cuda:0</c>) and pinned to the silo its key
/// names. Holds the ONNX Runtime sessions of the model versions loaded on it.
/// </summary>
public interface IDeviceGrain : IGrainWithStringKey
{
    /// <summary>Kind, memory, loaded models and health.</summary>
    Task<DeviceStatus> GetStatusAsync();

    /// <summary>
    /// Loads a model version into its session instances on this device and warms them up (no-op when loaded), held
    /// by <paramref name="holder"/> (a replica key) until it lets go: replicas of one version on one device share them.
    /// Returns the variant loaded (<c>fp32</c>, <c>fp16</c> or <c>int8</c>). A non-empty <paramref name="pool"/> (an experiment
    /// arm's <see cref="ModelTarget.SessionPool"/>) loads sessions of the arm's own, built from the arm's settings.
    /// </summary>
    Task<string> LoadModelAsync(string model, long version, string holder, string pool = "");

    /// <summary>
    /// <paramref name="holder"/> lets go of a model version; the version is unloaded once no replica holds it
    /// (no-op when not loaded). A replica starting meanwhile holds it first, so it is never unloaded under a stream.
    /// </summary>
    Task UnloadModelAsync(string model, long version, string holder, string pool = "");

    /// <summary>
    /// Runs validated requests of equal shape as one batch on a free session instance (loading the model
    /// first if needed); returns each request's named outputs, in that order.
    /// </summary>
    Task<BatchResult> RunBatchAsync(string model, long version, TensorData[][] requests, string[] outputNames, string pool = "");

    /// <summary>
    /// Takes the device out of service after a batch on it faulted or hung, and probes it until a probe passes (no-op while it is
    /// out of service): called by a replica of the silo whose batch ran on the device's sessions without a turn of this grain.
    /// </summary>
    Task QuarantineAsync(string reason);
}
