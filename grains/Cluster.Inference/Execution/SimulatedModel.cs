using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;

namespace Cluster.Inference.Execution;

/// <summary>
/// A model on a simulated device: it takes the modelled time (fixed + per item) and returns
/// zero-filled outputs of the declared shapes. For capacity planning, never for checking results.
/// </summary>
public sealed class SimulatedModel(ModelVersionDescriptor version, SimulatedDeviceProfile profile, long weightBytes) : ILoadedModel
{
    /// <inheritdoc />
    public long WeightBytes { get; } = weightBytes;

    /// <inheritdoc />
    public TensorData[] Run(IReadOnlyList<TensorData> inputs, IReadOnlyList<string> outputNames)
    {
        var batch = inputs.Count > 0 && inputs[0].Shape.Length > 0 ? inputs[0].Shape[0] : 1;
        Thread.Sleep(TimeSpan.FromMicroseconds(profile.FixedLatencyMicroseconds + (profile.PerItemMicroseconds * batch)));
        var results = new TensorData[outputNames.Count];
        for (var i = 0; i < outputNames.Count; i++)
        {
            var spec = Array.Find(version.Outputs, o => o.Name == outputNames[i])!;
            var shape = new long[spec.Shape.Length];
            for (var d = 0; d < shape.Length; d++)
            {
                shape[d] = spec.Shape[d] >= 0 ? spec.Shape[d] : d == 0 ? batch : 1;
            }

            var count = (int)TensorShape.ElementCount(shape);
            results[i] = spec.ElementType == TensorElementType.String
                ? TensorData.FromStrings(spec.Name, new string[count].Select(_ => "").ToArray(), shape)
                : new TensorData { Name = spec.Name, ElementType = spec.ElementType, Shape = shape, Data = new byte[count * spec.ElementType.SizeOf()] };
        }

        return results;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
