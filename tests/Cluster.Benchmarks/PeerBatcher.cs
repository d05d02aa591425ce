using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Cluster.Client.Protocol;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Benchmarks;

/// <summary>
/// The peer's batching: requests wait in a channel; one loop takes every waiting request (up to
/// <c>max_batch_size</c>), copies their raw FP32 rows into one input, runs the session once and answers each
/// request with its rows of the output. A request that does not fit the model's input width is answered with
/// <c>INVALID_ARGUMENT</c>.
/// </summary>
public sealed class PeerBatcher : IDisposable
{
    private readonly Channel<Pending> _waiting = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly int _maxBatchSize;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly int _inputWidth;
    private readonly int _outputWidth;
    private readonly Task _loop;
    private long _batches;
    private long _runTicks;

    /// <summary>Starts the loop over <paramref name="session"/>, a model with one FP32 input and one FP32 output of shape [batch, width].</summary>
    public PeerBatcher(InferenceSession session, int maxBatchSize)
    {
        _session = session;
        _maxBatchSize = Math.Max(1, maxBatchSize);
        var (input, inputShape) = session.InputMetadata.Select(m => (m.Key, m.Value.Dimensions)).Single();
        var (output, outputShape) = session.OutputMetadata.Select(m => (m.Key, m.Value.Dimensions)).Single();
        (_inputName, _inputWidth, _outputName, _outputWidth) = (input, inputShape[^1], output, outputShape[^1]);
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The batches run so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>The time spent in the session's runs so far, in seconds: what the silo reports as a batch's compute.</summary>
    public double RunSeconds => Interlocked.Read(ref _runTicks) / (double)Stopwatch.Frequency;

    /// <summary>Queues one request (one row) and answers it once its batch has run.</summary>
    public Task<ModelInferResponse> InferAsync(ModelInferRequest request)
    {
        if (request.RawInputContents is not [var raw] || raw.Length != _inputWidth * sizeof(float))
        {
            throw new RpcException(
                new Status(StatusCode.InvalidArgument, $"raw_input_contents must hold one row of {_inputWidth} FP32 values for input '{_inputName}'."));
        }

        var pending = new Pending(request, new TaskCompletionSource<ModelInferResponse>(TaskCreationOptions.RunContinuationsAsynchronously));
        _waiting.Writer.TryWrite(pending);
        return pending.Answer.Task;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _waiting.Writer.TryComplete();
        _loop.Wait();
        _runOptions.Dispose();
    }

    private async Task LoopAsync()
    {
        var batch = new List<Pending>(_maxBatchSize);
        var rows = new float[_maxBatchSize * _inputWidth];
        while (await _waiting.Reader.WaitToReadAsync())
        {
            while (batch.Count < _maxBatchSize && _waiting.Reader.TryRead(out var pending))
            {
                MemoryMarshal.Cast<byte, float>(pending.Request.RawInputContents[0].Span).CopyTo(rows.AsSpan(batch.Count * _inputWidth));
                batch.Add(pending);
            }

            Interlocked.Increment(ref _batches);
            try
            {
                Run(batch, rows);
            }
            catch (Exception e)
            {
                batch.ForEach(p => p.Answer.TrySetException(e));
            }

            batch.Clear();
        }
    }

    private void Run(List<Pending> batch, float[] rows)
    {
        using var input =
            OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, rows.AsMemory(0, batch.Count * _inputWidth), [batch.Count, _inputWidth]);
        var started = Stopwatch.GetTimestamp();
        using var outputs = _session.Run(_runOptions, [_inputName], [input], [_outputName]);
        Interlocked.Add(ref _runTicks, Stopwatch.GetTimestamp() - started);
        var results = outputs[0].GetTensorDataAsSpan<float>();
        for (var i = 0; i < batch.Count; i++)
        {
            var request = batch[i].Request;
            var answer = new ModelInferResponse { ModelName = request.ModelName, ModelVersion = "1", Id = request.Id };
            var tensor = new ModelInferResponse.Types.InferOutputTensor { Name = _outputName, Datatype = "FP32" };
            tensor.Shape.Add([1, _outputWidth]);
            answer.Outputs.Add(tensor);
            answer.RawOutputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(results.Slice(i * _outputWidth, _outputWidth))));
            batch[i].Answer.TrySetResult(answer);
        }
    }

    private sealed record Pending(ModelInferRequest Request, TaskCompletionSource<ModelInferResponse> Answer);
}
