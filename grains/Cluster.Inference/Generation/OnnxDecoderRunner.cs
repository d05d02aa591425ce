using System.Diagnostics;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cluster.Inference.Generation;

/// <summary>
/// Runs a decoder in Hugging Face Optimum's ONNX layout (<c>input_ids</c>, <c>attention_mask</c>,
/// <c>position_ids</c> when present, <c>past_key_values.{i}.key|value</c> → <c>logits</c>,
/// <c>present.{i}.key|value</c>) and keeps the KV cache resident as the passes' own tensors
/// (<see cref="KvCacheGroup"/>): row r holds one sequence, its cached tokens right-aligned and the columns
/// before them padding masked out by <c>attention_mask</c>. A step's decode rows run as one pass; when they
/// are the previous decode pass's rows, that pass's <c>present</c> goes straight back as <c>past</c> (no
/// copy); otherwise (a sequence joined or left) each row's tokens are copied into new tensors first. Each
/// prefill chunk runs as a pass of its own.
/// </summary>
public sealed partial class OnnxDecoderRunner : IDecoderRunner
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly TensorElementType _cacheType;
    private readonly TensorElementType _logitsType;
    private readonly bool _hasPositionIds;
    private readonly string[] _pastNames;
    private readonly string[] _presentNames;
    private float[] _logits = [];
    private KvCacheGroup? _decoding;
    private List<KvCacheGroup> _prefilled = [];

    /// <summary>The token an idle slot of the decode group is fed.</summary>
    private static readonly ReadOnlyMemory<int> IdleToken = new[] { 0 };

    /// <summary>Opens the decoder on <paramref name="device"/>; throws ArgumentException when the graph is not in the Optimum layout.</summary>
    public OnnxDecoderRunner(string onnxPath, DeviceDescriptor device, int intraOpThreads = 0)
    {
        _session = OrtSessions.Open(onnxPath, device, intraOpThreads);
        try
        {
            (Shape, _cacheType, _logitsType, _hasPositionIds) = DecoderLayout.Read(_session, onnxPath);
        }
        catch
        {
            _session.Dispose();
            throw;
        }

        WeightBytes = new FileInfo(onnxPath).Length;
        _pastNames = new string[2 * Shape.Layers];
        _presentNames = new string[2 * Shape.Layers];
        for (var layer = 0; layer < Shape.Layers; layer++)
        {
            _pastNames[2 * layer] = $"past_key_values.{layer}.key";
            _pastNames[(2 * layer) + 1] = $"past_key_values.{layer}.value";
            _presentNames[2 * layer] = $"present.{layer}.key";
            _presentNames[(2 * layer) + 1] = $"present.{layer}.value";
        }
    }

    /// <inheritdoc />
    public DecoderShape Shape { get; }

    /// <summary>Bytes of the model file (its weights).</summary>
    public long WeightBytes { get; }

    /// <inheritdoc />
    /// <remarks>
    /// Decode rows (one token each) run as one pass over the decode group's slots; each prefill chunk runs as a
    /// pass of its own, so a long chunk never pads every decoding row (and its logits) to the chunk's length.
    /// </remarks>
    public StepOutput Run(IReadOnlyList<StepRow> rows)
    {
        var vocabulary = Shape.VocabularySize;
        var located = Locate(rows);
        var decoding = new List<int>();
        var prefilling = new List<int>();
        for (var r = 0; r < rows.Count; r++)
        {
            (rows[r].Tokens.Length == 1 ? decoding : prefilling).Add(r);
        }

        var plan = decoding.Count > 0 ? PlanSlots(rows, decoding, located) : null;
        var slots = plan?.Ids.Length ?? 0;

        // Valid until the next step: the engine samples from it before it asks for another.
        var needed = (slots + prefilling.Count) * vocabulary;
        if (_logits.Length < needed)
        {
            _logits = new float[needed];
        }

        var offsets = new int[rows.Count];
        var output = new StepOutput(_logits, vocabulary, offsets);
        var consumed = new HashSet<KvCacheGroup>();
        KvCacheGroup? decoded = null;
        var prefilled = new List<KvCacheGroup>(prefilling.Count);
        try
        {
            // Prefill first: a prompt fed one token in the previous step (the budget's last token) sits in the decode
            // group, and its next chunk copies from there before the decode pass feeds that group's tensors back.
            for (var p = 0; p < prefilling.Count; p++)
            {
                var index = prefilling[p];
                offsets[index] = (slots + p) * vocabulary;
                prefilled.Add(RunPrefill(rows[index], located[index], offsets[index], consumed, output));
            }

            if (plan is not null)
            {
                decoded = RunDecode(rows, decoding, located, plan, consumed, output);
            }
        }
        catch
        {
            decoded?.Dispose();
            prefilled.ForEach(g => g.Dispose());
            decoded = null;
            prefilled.Clear();
            throw;
        }
        finally
        {
            // Sequences not in this step are dropped with their groups; a group fed back as a past was disposed with the pass's inputs.
            foreach (var group in _prefilled.Append(_decoding))
            {
                if (group is not null && !consumed.Contains(group))
                {
                    group.Dispose();
                }
            }

            _decoding = decoded;
            _prefilled = prefilled;
        }

        return output;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _decoding?.Dispose();
        _prefilled.ForEach(g => g.Dispose());
        _decoding = null;
        _prefilled = [];
        _runOptions.Dispose();
        _session.Dispose();
    }

    /// <summary>Where each row's cached tokens are (its group and row there), or null for a sequence starting afresh.</summary>
    private (KvCacheGroup Group, int Row)?[] Locate(IReadOnlyList<StepRow> rows)
    {
        var located = new (KvCacheGroup, int)?[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r].Position == 0)
            {
                continue;
            }

            foreach (var group in _prefilled.Prepend(_decoding))
            {
                var index = group?.IndexOf(rows[r].SequenceId, rows[r].Position) ?? -1;
                if (index >= 0)
                {
                    located[r] = (group!, index);
                    break;
                }
            }

            if (located[r] is null)
            {
                throw new InvalidOperationException($"Sequence {rows[r].SequenceId} is fed from position {rows[r].Position}, but the cache does not hold " +
                    "that many of its tokens.");
            }
        }

        return located;
    }

    /// <summary>
    /// Gives every decode row a slot of the decode group. A row already there keeps its slot; a row joining
    /// (its prompt just prefilled) takes the slot of a sequence that left, its cache copied in alone. The group
    /// is rebuilt (every row copied) only when it cannot take the rows: too few free slots, too few columns for
    /// a joining sequence, or so many idle slots or columns that the padding costs more than the copy.
    /// </summary>
    private SlotPlan PlanSlots(IReadOnlyList<StepRow> rows, List<int> decoding, (KvCacheGroup Group, int Row)?[] located)
    {
        var group = _decoding;
        var assigned = new int[decoding.Count];
        var claimed = new bool[group?.Ids.Length ?? 0];
        var joiners = 0;
        var longest = 0;
        for (var k = 0; k < decoding.Count; k++)
        {
            var row = rows[decoding[k]];
            longest = Math.Max(longest, row.Position);
            assigned[k] = located[decoding[k]] is { } at && at.Group == group ? at.Row : -1;
            if (assigned[k] >= 0)
            {
                claimed[assigned[k]] = true;
            }
            else
            {
                joiners++;
            }
        }

        var free = claimed.Count(c => !c);
        var rebuild = group is null || longest > group.Columns || joiners > free
            || group.Ids.Length > (2 * decoding.Count) + 4 || group.Columns > (2 * longest) + 64;
        if (rebuild)
        {
            return new SlotPlan(null, [.. decoding.Select(i => rows[i].SequenceId)], [.. Enumerable.Range(0, decoding.Count)], longest);
        }

        var ids = (long[])group!.Ids.Clone();
        var freeSlots = new Queue<int>(Enumerable.Range(0, claimed.Length).Where(s => !claimed[s]));
        for (var k = 0; k < decoding.Count; k++)
        {
            if (assigned[k] < 0)
            {
                assigned[k] = freeSlots.Dequeue();
            }

            ids[assigned[k]] = rows[decoding[k]].SequenceId;
        }

        foreach (var idle in freeSlots)
        {
            ids[idle] = KvCacheGroup.NoSequence;
        }

        return new SlotPlan(group, ids, assigned, group.Columns);
    }

    private KvCacheGroup RunDecode(IReadOnlyList<StepRow> rows, List<int> decoding, (KvCacheGroup Group, int Row)?[] located, SlotPlan plan,
        HashSet<KvCacheGroup> consumed, StepOutput output)
    {
        var slots = plan.Ids.Length;
        var passRows = new StepRow[slots];
        for (var s = 0; s < slots; s++)
        {
            // An idle slot decodes a dummy token that attends only to itself: finite, and never read.
            passRows[s] = new StepRow(KvCacheGroup.NoSequence, IdleToken, 0, false);
        }

        OrtValue[] past;
        if (plan.Reused is { } group)
        {
            consumed.Add(group);
            past = group.Tensors;
            for (var k = 0; k < decoding.Count; k++)
            {
                var row = rows[decoding[k]];
                var slot = plan.Slots[k];
                if (located[decoding[k]] is { } source && source.Group != group)
                {
                    output.KvBytesCopied += CopySequence(source, past, slot, group.Columns, row.Position);
                }
            }
        }
        else
        {
            past = GatherPast([.. decoding.Select(i => rows[i])], [.. decoding.Select(i => located[i])], plan.Columns, output);
        }

        for (var k = 0; k < decoding.Count; k++)
        {
            passRows[plan.Slots[k]] = rows[decoding[k]];
            output.RowOffsets[decoding[k]] = plan.Slots[k] * Shape.VocabularySize;
        }

        var results = RunPass(passRows, plan.Columns, 1, past, output, logitsTarget: _logits.AsMemory(0, slots * Shape.VocabularySize));
        var lengths = new int[slots];
        long real = 0;
        for (var s = 0; s < slots; s++)
        {
            lengths[s] = plan.Ids[s] == KvCacheGroup.NoSequence ? 0 : passRows[s].Position + 1;
            real += lengths[s];
        }

        output.TotalSlots += (long)slots * (plan.Columns + 1);
        output.PaddedSlots += ((long)slots * (plan.Columns + 1)) - real;
        return new KvCacheGroup(results, plan.Ids, lengths, plan.Columns + 1);
    }

    private KvCacheGroup RunPrefill(StepRow row, (KvCacheGroup Group, int Row)? source, int logitsOffset, HashSet<KvCacheGroup> consumed, StepOutput output)
    {

        OrtValue[] past;
        if (source is { Group: { Ids.Length: 1 } group } && group.Columns == row.Position && group != _decoding)
        {
            // The previous chunk of this prompt: its present is this chunk's past as it is.
            consumed.Add(group);
            past = group.Tensors;
        }
        else
        {
            past = GatherPast([row], [source], row.Position, output);
        }

        var results = RunPass([row], row.Position, row.Tokens.Length, past, output, logitsTarget: null, logitsOffset);
        var length = row.Position + row.Tokens.Length;
        output.TotalSlots += length;
        return new KvCacheGroup(results, [row.SequenceId], [length], length);
    }

    /// <summary>
    /// One forward pass. Logits go straight into <paramref name="logitsTarget"/> when given (FP32 decode passes);
    /// otherwise the last position's logits are copied to <paramref name="logitsOffset"/>. Returns the present tensors.
    /// </summary>
    private OrtValue[] RunPass(IReadOnlyList<StepRow> rows, int past, int step, OrtValue[] pastValues, StepOutput output, Memory<float>? logitsTarget,
        int logitsOffset = 0)
    {
        var (names, inputs) = BuildInputs(rows, past, step, pastValues);
        using var binding = _session.CreateIoBinding();
        OrtValue? boundLogits = null;
        try
        {
            for (var i = 0; i < names.Length; i++)
            {
                binding.BindInput(names[i], inputs[i]);
            }

            if (logitsTarget is { } target && _logitsType == TensorElementType.Float)
            {
                boundLogits = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, target, [rows.Count, step, Shape.VocabularySize]);
                binding.BindOutput("logits", boundLogits);
            }
            else
            {
                binding.BindOutputToDevice("logits", OrtMemoryInfo.DefaultInstance);
            }

            foreach (var name in _presentNames)
            {
                binding.BindOutputToDevice(name, OrtMemoryInfo.DefaultInstance);
            }

            var started = Stopwatch.GetTimestamp();
            _session.RunWithBinding(_runOptions, binding);
            output.RunTime += Stopwatch.GetElapsedTime(started);
        }
        finally
        {
            foreach (var input in inputs)
            {
                input.Dispose();
            }
        }

        var results = binding.GetOutputValues();
        using (var logits = results[0])
        {
            if (boundLogits is null)
            {
                CopyLastLogits(logits, rows, step, logitsTarget is null ? null : 0, logitsOffset);
            }
        }

        boundLogits?.Dispose();
        var presents = new OrtValue[_presentNames.Length];
        for (var t = 0; t < presents.Length; t++)
        {
            presents[t] = results[t + 1];
        }

        return presents;
    }

    /// <summary>Copies each row's last-position logits (converting FP16) into the step's buffer.</summary>
    private void CopyLastLogits(OrtValue logits, IReadOnlyList<StepRow> rows, int step, int? rowMajorStart, int singleOffset)
    {
        var vocabulary = Shape.VocabularySize;
        for (var r = 0; r < rows.Count; r++)
        {
            var source = ((r * step) + rows[r].Tokens.Length - 1) * vocabulary;
            var target = _logits.AsSpan(rowMajorStart is { } start ? start + (r * vocabulary) : singleOffset, vocabulary);
            if (_logitsType == TensorElementType.Float)
            {
                logits.GetTensorDataAsSpan<float>().Slice(source, vocabulary).CopyTo(target);
                continue;
            }

            var halves = logits.GetTensorDataAsSpan<Float16>().Slice(source, vocabulary);
            for (var v = 0; v < vocabulary; v++)
            {
                target[v] = (float)halves[v];
            }
        }
    }

    /// <summary>New past tensors of <paramref name="past"/> columns holding each continuing row's cached tokens, right-aligned.</summary>
    private OrtValue[] GatherPast(List<StepRow> rows, List<(KvCacheGroup Group, int Row)?> sources, int past, StepOutput output)
    {
        var values = new OrtValue[_pastNames.Length];
        for (var t = 0; t < values.Length; t++)
        {
            values[t] = Allocate(rows.Count, past);
        }

        for (var r = 0; r < rows.Count; r++)
        {
            if (sources[r] is { } source)
            {
                output.KvBytesCopied += CopySequence(source, values, r, past, rows[r].Position);
            }
        }

        return values;
    }

    /// <summary>Copies one sequence's <paramref name="length"/> cached tokens, every layer, into a row of <paramref name="target"/>, right-aligned.</summary>
    private long CopySequence((KvCacheGroup Group, int Row) source, OrtValue[] target, int targetRow, int targetColumns, int length)
    {
        long copied = 0;
        for (var t = 0; t < target.Length; t++)
        {
            copied += CopyRow(
                source.Group.Tensors[t].GetTensorMutableRawData(), source.Row, source.Group.Columns, source.Group.Columns - length,
                target[t].GetTensorMutableRawData(), targetRow, targetColumns, targetColumns - length, length);
        }

        return copied;
    }

    private (string[] Names, OrtValue[] Values) BuildInputs(IReadOnlyList<StepRow> rows, int past, int step, OrtValue[] pastValues)
    {
        var batch = rows.Count;
        var total = past + step;
        var ids = new long[batch * step];
        var mask = new long[batch * total];
        var positions = new long[batch * step];
        for (var r = 0; r < batch; r++)
        {
            var row = rows[r];
            var tokens = row.Tokens.Span;
            mask.AsSpan((r * total) + past - row.Position, row.Position + tokens.Length).Fill(1);
            for (var s = 0; s < step; s++)
            {
                var real = s < tokens.Length;
                ids[(r * step) + s] = real ? tokens[s] : 0;
                positions[(r * step) + s] = row.Position + Math.Min(s, tokens.Length - 1);
            }
        }

        var names = new List<string>(3 + pastValues.Length) { "input_ids", "attention_mask" };
        var values = new List<OrtValue>(3 + pastValues.Length)
        {
            OrtValue.CreateTensorValueFromMemory(ids, [batch, step]),
            OrtValue.CreateTensorValueFromMemory(mask, [batch, total]),
        };
        if (_hasPositionIds)
        {
            names.Add("position_ids");
            values.Add(OrtValue.CreateTensorValueFromMemory(positions, [batch, step]));
        }

        names.AddRange(_pastNames);
        values.AddRange(pastValues);
        return ([.. names], [.. values]);
    }

    /// <summary>Copies <paramref name="tokens"/> cached tokens of every head of one row; returns the bytes copied.</summary>
    private long CopyRow(Span<byte> source, int sourceRow, int sourceColumns, int sourceStart, Span<byte> target, int targetRow, int targetColumns,
        int targetStart, int tokens)
    {
        var tokenBytes = Shape.HeadSize * Shape.BytesPerElement;
        var count = tokens * tokenBytes;
        for (var head = 0; head < Shape.KvHeads; head++)
        {
            var from = ((((long)sourceRow * Shape.KvHeads) + head) * sourceColumns + sourceStart) * tokenBytes;
            var to = ((((long)targetRow * Shape.KvHeads) + head) * targetColumns + targetStart) * tokenBytes;
            source.Slice((int)from, count).CopyTo(target.Slice((int)to, count));
        }

        return (long)count * Shape.KvHeads;
    }

    /// <summary>A zeroed cache tensor: padding must be finite, since masked columns still take part in the products.</summary>
    private OrtValue Allocate(int batch, int columns)
    {
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, _cacheType, [batch, Shape.KvHeads, columns, Shape.HeadSize]);
        value.GetTensorMutableRawData().Clear();
        return value;
    }

    /// <summary>The decode pass's slots: the group reused (null when rebuilt), each slot's sequence, each decode row's slot, and the past's columns.</summary>
    private sealed record SlotPlan(KvCacheGroup? Reused, long[] Ids, int[] Slots, int Columns);
}
