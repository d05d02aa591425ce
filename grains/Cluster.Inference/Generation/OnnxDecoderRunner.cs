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
public sealed class OnnxDecoderRunner : IDecoderRunner
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly TensorElementType _cacheType;
    private readonly TensorElementType _logitsType;
    private readonly bool _hasPositionIds;
    private readonly string[] _pastNames;
    private readonly string[] _outputNames;
    private float[] _logits = [];
    private List<KvCacheGroup> _groups = [];

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
        _outputNames = new string[1 + (2 * Shape.Layers)];
        _outputNames[0] = "logits";
        for (var layer = 0; layer < Shape.Layers; layer++)
        {
            _pastNames[2 * layer] = $"past_key_values.{layer}.key";
            _pastNames[(2 * layer) + 1] = $"past_key_values.{layer}.value";
            _outputNames[1 + (2 * layer)] = $"present.{layer}.key";
            _outputNames[2 + (2 * layer)] = $"present.{layer}.value";
        }
    }

    /// <inheritdoc />
    public DecoderShape Shape { get; }

    /// <summary>Bytes of the model file (its weights).</summary>
    public long WeightBytes { get; }

    /// <inheritdoc />
    /// <remarks>
    /// Decode rows (one token each) run as one pass; each prefill chunk runs as a pass of its own, so a long chunk
    /// never pads every decoding row (and its logits) to the chunk's length.
    /// </remarks>
    public StepOutput Run(IReadOnlyList<StepRow> rows)
    {
        // Valid until the next step: the engine samples from it before it asks for another.
        if (_logits.Length < rows.Count * Shape.VocabularySize)
        {
            _logits = new float[rows.Count * Shape.VocabularySize];
        }

        var output = new StepOutput(_logits, Shape.VocabularySize);
        var previous = _groups;
        var located = Locate(rows);
        var decoding = new List<int>();
        var passes = new List<List<int>>();
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r].Tokens.Length == 1)
            {
                decoding.Add(r);
            }
            else
            {
                passes.Add([r]);
            }
        }

        if (decoding.Count > 0)
        {
            passes.Insert(0, decoding);
        }

        var kept = new List<KvCacheGroup>(passes.Count);
        var consumed = new HashSet<KvCacheGroup>();
        try
        {
            foreach (var pass in passes)
            {
                kept.Add(RunPass(rows, pass, located, consumed, output));
            }
        }
        catch
        {
            foreach (var group in kept)
            {
                group.Dispose();
            }

            kept.Clear();
            throw;
        }
        finally
        {
            // Sequences not in this step are dropped with their groups; a group fed back as a past was disposed with the pass's inputs.
            foreach (var group in previous)
            {
                if (!consumed.Contains(group))
                {
                    group.Dispose();
                }
            }

            _groups = kept;
        }

        return output;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var group in _groups)
        {
            group.Dispose();
        }

        _groups = [];
        _runOptions.Dispose();
        _session.Dispose();
    }

    /// <summary>Where each row's cached tokens are: its group and row there, or null for a sequence starting afresh.</summary>
    private (KvCacheGroup Group, int Row)?[] Locate(IReadOnlyList<StepRow> rows)
    {
        var located = new (KvCacheGroup, int)?[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            if (rows[r].Position == 0)
            {
                continue;
            }

            foreach (var group in _groups)
            {
                var index = Array.IndexOf(group.Ids, rows[r].SequenceId);
                if (index >= 0 && group.Lengths[index] == rows[r].Position)
                {
                    located[r] = (group, index);
                    break;
                }
            }

            if (located[r] is null)
            {
                throw new InvalidOperationException($"Sequence {rows[r].SequenceId} is fed from position {rows[r].Position}, but the cache does not hold that many of its tokens.");
            }
        }

        return located;
    }

    private KvCacheGroup RunPass(IReadOnlyList<StepRow> allRows, List<int> indices, (KvCacheGroup Group, int Row)?[] located, HashSet<KvCacheGroup> consumed, StepOutput output)
    {
        var rows = indices.ConvertAll(i => allRows[i]);
        int past = 0, step = 0;
        long realSlots = 0;
        foreach (var row in rows)
        {
            past = Math.Max(past, row.Position);
            step = Math.Max(step, row.Tokens.Length);
            realSlots += row.Position + row.Tokens.Length;
        }

        var reused = step == 1 && located[indices[0]] is { Group: var candidate } && candidate.Matches(rows, past) ? candidate : null;
        if (reused is not null)
        {
            consumed.Add(reused);
        }

        var pastValues = reused?.Tensors ?? GatherPast(rows, indices.ConvertAll(i => located[i]), past, output);
        var (names, inputs) = BuildInputs(rows, past, step, pastValues);
        IDisposableReadOnlyCollection<OrtValue> results;
        var started = Stopwatch.GetTimestamp();
        try
        {
            results = _session.Run(_runOptions, names, inputs, _outputNames);
        }
        finally
        {
            output.RunTime += Stopwatch.GetElapsedTime(started);
            foreach (var input in inputs)
            {
                input.Dispose();
            }
        }

        using (var logits = results[0])
        {
            CopyLogits(rows, indices, step, logits, output);
        }

        output.TotalSlots += (long)rows.Count * (past + step);
        output.PaddedSlots += ((long)rows.Count * (past + step)) - realSlots;
        return KeepPresent(rows, past, step, results, output);
    }

    /// <summary>New past tensors of <paramref name="past"/> columns holding each continuing row's cached tokens, right-aligned.</summary>
    private OrtValue[] GatherPast(List<StepRow> rows, List<(KvCacheGroup Group, int Row)?> sources, int past, StepOutput output)
    {
        var values = new OrtValue[_pastNames.Length];
        for (var t = 0; t < values.Length; t++)
        {
            values[t] = Allocate(rows.Count, past);
            var target = values[t].GetTensorMutableRawData();
            for (var r = 0; r < rows.Count; r++)
            {
                if (sources[r] is { } source)
                {
                    var length = rows[r].Position;
                    output.KvBytesCopied += CopyRow(
                        source.Group.Tensors[t].GetTensorMutableRawData(), source.Row, source.Group.Columns, source.Group.Columns - length, target, r, past, past - length, length);
                }
            }
        }

        return values;
    }

    /// <summary>Keeps a pass's <c>present</c> as a cache group, compacted when some row's new tokens were padded.</summary>
    private KvCacheGroup KeepPresent(List<StepRow> rows, int past, int step, IDisposableReadOnlyCollection<OrtValue> results, StepOutput output)
    {
        var lengths = new int[rows.Count];
        var ids = new long[rows.Count];
        var aligned = true;
        var longest = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            ids[r] = rows[r].SequenceId;
            lengths[r] = rows[r].Position + rows[r].Tokens.Length;
            aligned &= rows[r].Tokens.Length == step;
            longest = Math.Max(longest, lengths[r]);
        }

        var kept = new OrtValue[_pastNames.Length];
        for (var t = 0; t < kept.Length; t++)
        {
            var present = results[t + 1];
            if (aligned)
            {
                kept[t] = present;
                continue;
            }

            // Right padding of the new tokens left holes after the shorter rows: close them so the cache stays right-aligned.
            kept[t] = Allocate(rows.Count, longest);
            var source = present.GetTensorMutableRawData();
            var target = kept[t].GetTensorMutableRawData();
            for (var r = 0; r < rows.Count; r++)
            {
                output.KvBytesCopied += CopyRow(source, r, past + step, past - rows[r].Position, target, r, longest, longest - lengths[r], lengths[r]);
            }

            present.Dispose();
        }

        return new KvCacheGroup(kept, ids, lengths, aligned ? past + step : longest);
    }

    private (string[] Names, OrtValue[] Values) BuildInputs(List<StepRow> rows, int past, int step, OrtValue[] pastValues)
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

    private void CopyLogits(List<StepRow> rows, List<int> indices, int step, OrtValue logits, StepOutput output)
    {
        var vocabulary = Shape.VocabularySize;
        for (var r = 0; r < rows.Count; r++)
        {
            if (!rows[r].WantLogits)
            {
                continue;
            }

            var offset = ((r * step) + rows[r].Tokens.Length - 1) * vocabulary;
            var target = output.Logits.AsSpan(indices[r] * vocabulary, vocabulary);
            if (_logitsType == TensorElementType.Float)
            {
                logits.GetTensorDataAsSpan<float>().Slice(offset, vocabulary).CopyTo(target);
                continue;
            }

            var halves = logits.GetTensorDataAsSpan<Float16>().Slice(offset, vocabulary);
            for (var v = 0; v < vocabulary; v++)
            {
                target[v] = (float)halves[v];
            }
        }
    }

    /// <summary>Copies <paramref name="tokens"/> cached tokens of every head of one row; returns the bytes copied.</summary>
    private long CopyRow(Span<byte> source, int sourceRow, int sourceColumns, int sourceStart, Span<byte> target, int targetRow, int targetColumns, int targetStart, int tokens)
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
}
