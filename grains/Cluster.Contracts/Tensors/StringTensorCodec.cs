using System.Buffers.Binary;
using System.Text;

namespace Cluster.Contracts.Tensors;

/// <summary>Reads string tensors in their wire form: per element a 4-byte little-endian length, then UTF-8 bytes.</summary>
public static class StringTensorCodec
{
    /// <summary>Decodes exactly <paramref name="count"/> strings; throws naming the tensor when the bytes do not hold them.</summary>
    public static string[] Decode(string tensorName, ReadOnlySpan<byte> data, int count)
    {
        var values = new string[count];
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            if (data.Length - offset < 4)
            {
                throw new FormatException($"Tensor '{tensorName}': string element {i} has no length prefix ({data.Length - offset} bytes left).");
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
            offset += 4;
            if (length < 0 || length > data.Length - offset)
            {
                throw new FormatException($"Tensor '{tensorName}': string element {i} claims {length} bytes but {data.Length - offset} remain.");
            }

            values[i] = Encoding.UTF8.GetString(data.Slice(offset, length));
            offset += length;
        }

        if (offset != data.Length)
        {
            throw new FormatException($"Tensor '{tensorName}': {data.Length - offset} bytes follow the last of {count} string elements.");
        }

        return values;
    }
}
