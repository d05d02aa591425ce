using System.Diagnostics;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;
using Cluster.Inference.Repository;
using Microsoft.ML.OnnxRuntime;

namespace Cluster.Inference.Text;

/// <summary>
/// A BERT-style encoder served as a text-embedding pipeline on one device: the batch's sentences are
/// tokenized, sorted by length and cut into runs with little padding (<see cref="LengthGroups"/>), each run
/// goes through the encoder, and each sentence's hidden states are mean-pooled and L2-normalised.
/// </summary>
public sealed class SentenceEmbeddingModel : ILoadedModel
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly WordPieceEncoder _encoder;
    private readonly TextEmbeddingConfig _config;
    private readonly string[] _encoderInputs;
    private readonly string[] _hiddenOutput;
    private readonly int _dimensions;

    /// <summary>Opens the encoder and reads the vocabulary; throws <see cref="OnnxRuntimeException"/> or <see cref="ArgumentException"/> saying why it cannot
    /// serve.</summary>
    public SentenceEmbeddingModel(string onnxPath, string vocabularyFile, DeviceDescriptor device, TextEmbeddingConfig config, int intraOpThreads = 0)
    {
        _config = config ?? throw new ArgumentNullException(nameof(config));
        _session = OrtSessions.Open(onnxPath, device, intraOpThreads);
        try
        {
            var inputs = OnnxModelInspector.Specs(_session.InputNames, _session.InputMetadata);
            var hidden = TextEmbeddingSignature.HiddenOutput(OnnxModelInspector.Specs(_session.OutputNames, _session.OutputMetadata));
            var (_, outputs) = TextEmbeddingSignature.Describe(inputs, [hidden], config.Dimensions);
            _encoderInputs = Array.ConvertAll(inputs, i => i.Name);
            _hiddenOutput = [hidden.Name];
            _dimensions = (int)outputs[0].Shape[1];
            _encoder = new WordPieceEncoder(vocabularyFile, config);
        }
        catch
        {
            _session.Dispose();
            throw;
        }

        WeightBytes = new FileInfo(onnxPath).Length;
    }

    /// <inheritdoc />
    public long WeightBytes { get; }

    /// <inheritdoc />
    public BatchResult RunBatch(IReadOnlyList<TensorData[]> requests, IReadOnlyList<string> outputNames)
    {
        var start = Stopwatch.GetTimestamp();
        var sentences = new List<int[]>();
        var firstRow = new int[requests.Count + 1];
        for (var r = 0; r < requests.Count; r++)
        {
            foreach (var text in requests[r][0].AsStrings())
            {
                sentences.Add(_encoder.Encode(text));
            }

            firstRow[r + 1] = sentences.Count;
        }

        var embeddings = new float[sentences.Count * _dimensions];
        var tokens = default(TokenCounts);
        long inputTicks = Stopwatch.GetTimestamp() - start, inferTicks = 0, outputTicks = 0;
        foreach (var group in LengthGroups.Plan(sentences.ConvertAll(s => s.Length), _config.MaxPaddingFraction))
        {
            var phase = Stopwatch.GetTimestamp();
            var positions = sentences[group[^1]].Length;
            using var encoderInputs = new EncoderInputs(_encoderInputs, group, sentences, positions, _encoder.PaddingId);
            tokens += encoderInputs.Tokens;
            var ran = Stopwatch.GetTimestamp();
            inputTicks += ran - phase;
            using var outputs = _session.Run(_runOptions, _encoderInputs, encoderInputs.Values, _hiddenOutput);
            var pooled = Stopwatch.GetTimestamp();
            inferTicks += pooled - ran;
            var hidden = outputs[0].GetTensorDataAsSpan<float>();
            if (hidden.Length != group.Length * positions * _dimensions)
            {
                throw new ModelExecutionException($"Encoder output '{_hiddenOutput[0]}' has {hidden.Length} values for {group.Length} x {positions} tokens; " +
                    $"expected hidden size {_dimensions}.");
            }

            for (var row = 0; row < group.Length; row++)
            {
                var sentence = group[row];
                MeanPooling.PoolAndNormalize(hidden, row, positions, sentences[sentence].Length, embeddings.AsSpan(sentence * _dimensions, _dimensions));
            }

            outputTicks += Stopwatch.GetTimestamp() - pooled;
        }

        var split = Stopwatch.GetTimestamp();
        var results = new TensorData[requests.Count][];
        for (var r = 0; r < requests.Count; r++)
        {
            var rows = firstRow[r + 1] - firstRow[r];
            var values = embeddings.AsSpan(firstRow[r] * _dimensions, rows * _dimensions);
            results[r] = new TensorData[outputNames.Count];
            for (var o = 0; o < outputNames.Count; o++)
            {
                results[r][o] = TensorData.FromFloat32(outputNames[o], values, rows, _dimensions);
            }
        }

        outputTicks += Stopwatch.GetTimestamp() - split;
        return new BatchResult
        {
            Outputs = results,
            Timings = new BatchTimings
            {
                InputNanoseconds = Nanoseconds(inputTicks),
                InferNanoseconds = Nanoseconds(inferTicks),
                OutputNanoseconds = Nanoseconds(outputTicks),
            },
            Tokens = tokens,
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private static long Nanoseconds(long ticks) => (long)(ticks * (1e9 / Stopwatch.Frequency));
}
