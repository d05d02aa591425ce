using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using OrtType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace Cluster.Inference.Execution;

/// <summary>
/// Host memory that never moves (the pinned object heap), kept by one session instance for one bound input or output and
/// reused from batch to batch; it grows, to the next power of two, when a batch needs more.
/// </summary>
internal sealed class PinnedHostBuffer
{
    private byte[] _bytes = [];

    /// <summary>The buffer's first <paramref name="length"/> bytes, growing it first when it is shorter.</summary>
    public Span<byte> Take(int length)
    {
        if (_bytes.Length == 0 || _bytes.Length < length)
        {
            _bytes = GC.AllocateUninitializedArray<byte>(checked((int)Math.Max(64, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)length))),
                pinned: true);
        }

        return _bytes.AsSpan(0, length);
    }

    /// <summary>A tensor of <paramref name="shape"/> over the buffer's first <paramref name="length"/> bytes (taken first); dispose it after the run.</summary>
    public OrtValue Tensor(OrtType type, long[] shape, int length)
    {
        Take(length);
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, shape, Marshal.UnsafeAddrOfPinnedArrayElement(_bytes, 0), length);
    }
}
