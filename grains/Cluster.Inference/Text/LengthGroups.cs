namespace Cluster.Inference.Text;

/// <summary>
/// Length-aware batching: cuts a batch of sequences into model runs whose padding stays small. The
/// sequences are sorted by length; a run grows while the padding its longest member forces on the others
/// stays within the allowed fraction of the run's positions.
/// </summary>
public static class LengthGroups
{
    /// <summary>The runs, each a list of indices into <paramref name="lengths"/>, shortest sequences first.</summary>
    public static List<int[]> Plan(IReadOnlyList<int> lengths, double maxPaddingFraction)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        var order = Enumerable.Range(0, lengths.Count).OrderBy(i => lengths[i]).ThenBy(i => i).ToArray();
        var groups = new List<int[]>();
        var current = new List<int>();
        long realTokens = 0;
        foreach (var index in order)
        {
            var length = lengths[index];
            long positions = (long)(current.Count + 1) * length;
            if (current.Count > 0 && positions - (realTokens + length) > maxPaddingFraction * positions)
            {
                groups.Add([.. current]);
                current.Clear();
                realTokens = 0;
            }

            current.Add(index);
            realTokens += length;
        }

        if (current.Count > 0)
        {
            groups.Add([.. current]);
        }

        return groups;
    }
}
