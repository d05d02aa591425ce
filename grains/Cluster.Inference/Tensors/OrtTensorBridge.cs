using System.Buffers;
using Cluster.Contracts.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Tensors;

/// <summary>Moves tensors between their wire form and ONNX Runtime values without per-element work for fixed-size types.</summary>
public static class OrtTensorBridge
{
    /// <summary>
    /// An <see cref="OrtValue"/> over the tensor's bytes, pinned in place (no copy) for fixed-size types;
    /// dispose the value, then <paramref name="pin"/>, after the run.
    /// </summary>
    public static unsafe OrtValue ToOrtValue(TensorData tensor, out MemoryHandle pin)
    {
        if (tensor.ElementType == TensorElementType.String)
        {
            pin = default;
            var strings = tensor.AsStrings();
            var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.Shape);
            for (var i = 0; i < strings.Length; i++)
            {
                value.StringTensorSetElementAt(strings[i].AsSpan(), i);
            }

            return value;
        }

        pin = tensor.Data.AsMemory().Pin();
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, tensor.ElementType.ToOrt(), tensor.Shape, (IntPtr)pin.Pointer,
            tensor.Data.Length);
    }

    /// <summary>Copies an ONNX Runtime output into its wire form.</summary>
    public static TensorData FromOrtValue(string name, OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        var type = OrtElementTypes.FromOrt(info.ElementDataType);
        var shape = info.Shape;
        if (type == TensorElementType.String)
        {
            return TensorData.FromStrings(name, value.GetStringTensorAsArray(), shape);
        }

        return new TensorData { Name = name, ElementType = type, Shape = shape, Data = value.GetTensorMutableRawData().ToArray() };
    }
}
