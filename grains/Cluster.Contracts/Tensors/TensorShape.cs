namespace Cluster.Contracts.Tensors;

/// <summary>Arithmetic and formatting of tensor shapes.</summary>
public static class TensorShape
{
    /// <summary>The product of the dimensions; throws on a negative dimension or on overflow.</summary>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ArgumentException($"Shape {Format(shape)} has a negative dimension.", nameof(shape));
            }

            count = checked(count * dimension);
        }

        return count;
    }

    /// <summary>Formats a shape as <c>[2,-1,4]</c>.</summary>
    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    /// <summary>Whether a concrete shape fits a declared one, where -1 in the declaration matches any size.</summary>
    public static bool Fits(ReadOnlySpan<long> declared, ReadOnlySpan<long> actual)
    {
        if (declared.Length != actual.Length)
        {
            return false;
        }

        for (var i = 0; i < declared.Length; i++)
        {
            if (declared[i] >= 0 && declared[i] != actual[i])
            {
                return false;
            }
        }

        return true;
    }
}
