using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Microsoft.ML.Tokenizers;

namespace Cluster.Inference.Generation;

/// <summary>
/// A generation model loaded on a device: its decoder session with the KV cache it keeps resident, its
/// tokenizer, and the engine that schedules it (started by <see cref="Start"/>, one per session since the
/// cache lives in the session's runner). The device's memory is charged for the weights and the whole
/// cache budget. Created and disposed on the device's thread.
/// </summary>
public sealed class DecoderSession : ILoadedModel
{
    private readonly OnnxDecoderRunner _runner;
    private readonly CancellationTokenSource _stop = new();
    private GenerationEngine? _engine;

    /// <summary>Opens the decoder and its tokenizer and runs one prefill and one decode step as its warm-up.</summary>
    public DecoderSession(string onnxPath, DeviceDescriptor device, GenerationConfig config, int intraOpThreads = 0)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(onnxPath))!;
        Tokenizer = DecoderTokenizer.Load(folder, config.Tokenizer.Length > 0 ? config.Tokenizer : null);
        Settings = GenerationSettingsResolver.Resolve(config, folder, device.MemoryTotalBytes);
        _runner = new OnnxDecoderRunner(onnxPath, device, intraOpThreads);
        try
        {
            _runner.Run([new StepRow(-1, new[] { 0, 1, 2, 3 }, 0, true)]);
            _runner.Run([new StepRow(-1, new[] { 4 }, 4, true)]);
        }
        catch
        {
            _runner.Dispose();
            throw;
        }

        WeightBytes = _runner.WeightBytes + Settings.KvCacheBytes;
    }

    /// <summary>The engine's settings (config, model files and device memory resolved).</summary>
    public GenerationSettings Settings { get; }

    /// <summary>The model's tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>Weights plus the KV cache budget.</summary>
    public long WeightBytes { get; }

    /// <summary>The running engine, once started.</summary>
    public GenerationEngine? Engine => _engine;

    /// <summary>Starts the engine's step loop; forward passes go through <paramref name="execute"/> (the device's thread). Idempotent.</summary>
    public GenerationEngine Start(Func<Func<StepOutput>, Task<StepOutput>> execute, TimeProvider time)
    {
        if (_engine is not null)
        {
            return _engine;
        }

        var engine = new GenerationEngine(_runner, Tokenizer, Settings, time, execute);
        _engine = engine;
        _ = Task.Run(async () =>
        {
            await engine.RunAsync(_stop.Token);
            engine.Stop(new ReplicaNotStartedException("The generation model was unloaded from its device; send the request to another replica."));
        });
        return engine;
    }

    /// <inheritdoc />
    public BatchResult RunBatch(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames) =>
        throw new InvalidInputException(
            "This is a generation model: send text_input on a stream (ModelStreamInfer), a unary infer, or the SDK's generate call.");

    /// <inheritdoc />
    /// <remarks>Runs on the device's thread, so no forward pass is in flight; a later one fails and the loop ends the engine's requests.</remarks>
    public void Dispose()
    {
        _stop.Cancel();
        _runner.Dispose();
    }
}
