using System.Diagnostics;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Cluster.Inference.Generation;

/// <summary>
/// Runs a decoder in Hugging Face Optimum's ONNX layout (<c>input_ids</c>, <c>attention_mask</c>,
/// <c>position_ids</c> when present, <c>past_key_values.{i}.key|value</c> → <c>logits</c>,
/// <c>present.{i}.key|value</c>) and keeps the KV cache resident as the batch tensors themselves: row r
/// holds one sequence, its cached tokens right-aligned and the columns before them padding masked out by
/// <c>attention_mask</c>. A step whose rows are the resident rows, each decoding one token, feeds the
/// previous step's <c>present</c> straight back as <c>past</c> (no copy); any other step (a sequence
/// joined, left, or fed a prefill chunk) first copies each continuing row's tokens into new tensors.
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
    private OrtValue[]? _resident;
    private long[] _residentIds = [];
    private int[] _residentLengths = [];
    private int _residentPast;

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
    public StepOutput Run(IReadOnlyList<StepRow> rows)
    {
        var batch = rows.Count;
        var output = new StepOutput(batch, Shape.VocabularySize);
        var sourceRows = LocateRows(rows);
        int past = 0, step = 0;
        long realSlots = 0;
        foreach (var row in rows)
        {
            past = Math.Max(past, row.Position);
            step = Math.Max(step, row.Tokens.Length);
            realSlots += row.Position + row.Tokens.Length;
        }

        var reuse = _resident is not null && step == 1 && batch == _residentIds.Length && past == _residentPast && IsIdentity(sourceRows);
        var pastValues = reuse ? _resident! : GatherPast(rows, sourceRows, past, output);

        // The past tensors are inputs now, disposed with them after the run; a reused one is not disposed twice.
        ForgetResident(dispose: !reuse);

        var (names, inputs) = BuildInputs(rows, past, step, pastValues);
        IDisposableReadOnlyCollection<OrtValue> results;
        var started = Stopwatch.GetTimestamp();
        try
        {
            results = _session.Run(_runOptions, names, inputs, _outputNames);
        }
        finally
        {
            output.RunTime = Stopwatch.GetElapsedTime(started);
            for (var i = 0; i < inputs.Length; i++)
            {
                inputs[i].Dispose();
            }
        }

        using (var logits = results[0])
        {
            CopyLogits(rows, step, logits, output);
        }

        KeepPresent(rows, past, step, results, output);
        output.TotalSlots = (long)batch * (past + step);
        output.PaddedSlots = output.TotalSlots - realSlots;
        return output;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        ForgetResident(dispose: true);
        _runOptions.Dispose();
        _session.Dispose();
    }

    private int[] LocateRows(IReadOnlyList<StepRow> rows)
    {
        var sources = new int[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            sources[r] = -1;
            if (rows[r].Position == 0)
            {
                continue;
            }

            var index = Array.IndexOf(_residentIds, rows[r].SequenceId);
            if (index < 0 || _residentLengths[index] != rows[r].Position)
            {
                throw new InvalidOperationException(
                    $"Sequence {rows[r].SequenceId} is fed from position {rows[r].Position}, but the cache holds {(index < 0 ? 0 : _residentLengths[index])} of its tokens.");
            }

            sources[r] = index;
        }

        return sources;
    }

    private static bool IsIdentity(int[] sources)
    {
        for (var i = 0; i < sources.Length; i++)
        {
            if (sources[i] != i)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>New past tensors of <paramref name="past"/> columns holding each continuing row's cached tokens, right-aligned.</summary>
    private OrtValue[] GatherPast(IReadOnlyList<StepRow> rows, int[] sources, int past, StepOutput output)
    {
        var values = new OrtValue[_pastNames.Length];
        for (var t = 0; t < values.Length; t++)
        {
            values[t] = Allocate(rows.Count, past);
            if (_resident is null)
            {
                continue;
            }

            var source = _resident[t].GetTensorMutableRawData();
            var target = values[t].GetTensorMutableRawData();
            for (var r = 0; r < rows.Count; r++)
            {
                if (sources[r] >= 0)
                {
                    output.KvBytesCopied += CopyRow(source, sources[r], _residentPast, _residentPast - rows[r].Position, target, r, past, past - rows[r].Position, rows[r].Position);
                }
            }
        }

        return values;
    }

    /// <summary>Keeps this step's <c>present</c> as the resident cache, compacted when some row's new tokens were padded.</summary>
    private void KeepPresent(IReadOnlyList<StepRow> rows, int past, int step, IDisposableReadOnlyCollection<OrtValue> results, StepOutput output)
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

        _resident = kept;
        _residentIds = ids;
        _residentLengths = lengths;
        _residentPast = aligned ? past + step : longest;
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

    private void CopyLogits(IReadOnlyList<StepRow> rows, int step, OrtValue logits, StepOutput output)
    {
        var vocabulary = Shape.VocabularySize;
        for (var r = 0; r < rows.Count; r++)
        {
            if (!rows[r].WantLogits)
            {
                continue;
            }

            var offset = ((r * step) + rows[r].Tokens.Length - 1) * vocabulary;
            var target = output.Logits.AsSpan(r * vocabulary, vocabulary);
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

    private void ForgetResident(bool dispose)
    {
        if (_resident is null)
        {
            return;
        }

        if (dispose)
        {
            foreach (var value in _resident)
            {
                value.Dispose();
            }
        }

        _resident = null;
        _residentIds = [];
        _residentLengths = [];
        _residentPast = 0;
    }
}
