using System.Diagnostics;
using System.Net.Http.Headers;
using Cluster.Client.Protocol;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cluster.Edge.Tests.Fuzzing;

/// <summary>What a fuzz run found; a clean run has no internal errors, hangs or crashes.</summary>
public sealed record FuzzReport
{
    public required int Cases { get; init; }

    /// <summary>Cases answered with INTERNAL/UNKNOWN (gRPC) or HTTP 500 and above other than 503/504.</summary>
    public required int InternalErrors { get; init; }

    /// <summary>Cases without an answer within the per-request timeout.</summary>
    public required int Hangs { get; init; }

    /// <summary>Times the edge stopped answering a valid request (checked every 200 cases and at the end).</summary>
    public required int Crashes { get; init; }

    /// <summary>How often each answer came back, e.g. <c>grpc InvalidArgument</c> or <c>rest 400</c>.</summary>
    public required SortedDictionary<string, int> Answers { get; init; }

    /// <summary>The first failing cases with what was sent and what came back.</summary>
    public required List<string> Failures { get; init; }

    /// <summary>Managed heap after a full collection, at the end minus after the first tenth of the cases, in MiB.</summary>
    public required double GcHeapGrowthMb { get; init; }

    /// <summary>The process's working set at the end minus after the first tenth of the cases, in MiB.</summary>
    public required double WorkingSetGrowthMb { get; init; }

    /// <summary>The process's peak working set, in MiB.</summary>
    public required double PeakWorkingSetMb { get; init; }
}

/// <summary>
/// Sends seed-fixed hostile requests to a silo's gRPC edge (as raw message bytes, so malformed protobuf
/// reaches the server; unary calls and streams) and REST edge, a few at a time, each with its own timeout.
/// </summary>
public sealed class EdgeFuzzer(GrpcChannel channel, HttpClient http, string apiKey)
{
    private const int Concurrency = 4;
    private const int MaxFailuresKept = 20;
    private const int HealthCheckEvery = 200;

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);
    private static readonly Method<byte[], byte[]> RawModelInfer = new(MethodType.Unary, "inference.GRPCInferenceService", "ModelInfer", Bytes, Bytes);
    private static readonly Method<byte[],
        byte[]> RawModelStreamInfer = new(MethodType.DuplexStreaming, "inference.GRPCInferenceService", "ModelStreamInfer", Bytes, Bytes);

    private readonly CallInvoker _invoker = channel.CreateCallInvoker();
    private readonly GRPCInferenceService.GRPCInferenceServiceClient _grpc = new(channel);
    private readonly Dictionary<string, int> _answers = [];
    private readonly List<string> _failures = [];
    private int _internalErrors;
    private int _hangs;
    private int _crashes;

    /// <summary>Per-request timeout; an answer later than this counts as a hang.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Runs <paramref name="cases"/> cases from <paramref name="seed"/>, an eighth each: unary gRPC, gRPC generation
    /// (<c>text_input</c>/<c>messages</c>), REST infer and the text routes (OpenAI's <c>/v1</c>, Triton's generate) twice
    /// over, gRPC streams twice over.
    /// </summary>
    public async Task<FuzzReport> RunAsync(int cases, int seed)
    {
        // Growth is measured from the end of the first tenth, so first-use costs (JIT, pools, caches) are not counted.
        var warmedUpAfter = cases / 10 / Concurrency * Concurrency;
        long heapBefore = 0, workingSetBefore = 0;
        var grpcCases = new GrpcFuzzCases(seed);
        var restCases = new RestFuzzCases(seed + 1);
        var textCases = new TextFuzzCases(seed + 2);
        for (var sent = 0; sent < cases; sent += Concurrency)
        {
            if (sent == warmedUpAfter)
            {
                heapBefore = GC.GetTotalMemory(forceFullCollection: true);
                workingSetBefore = Environment.WorkingSet;
            }

            var round = new List<Task>();
            for (var i = sent; i < Math.Min(cases, sent + Concurrency); i++)
            {
                round.Add((i % 8) switch
                {
                    0 => SendGrpcAsync(grpcCases.Next()),
                    4 => SendGrpcAsync(textCases.NextGrpc()),
                    2 or 6 => SendStreamAsync(grpcCases.Next(), grpcCases.Next()),
                    1 or 5 => SendRestAsync(restCases.Next()),
                    _ => SendRestAsync(textCases.NextRest()),
                });
            }

            await Task.WhenAll(round);
            if ((sent / Concurrency) % (HealthCheckEvery / Concurrency) == 0)
            {
                await CheckServingAsync(sent);
            }
        }

        await CheckServingAsync(cases);
        using var process = Process.GetCurrentProcess();
        return new FuzzReport
        {
            Cases = cases,
            InternalErrors = _internalErrors,
            Hangs = _hangs,
            Crashes = _crashes,
            Answers = new SortedDictionary<string, int>(_answers, StringComparer.Ordinal),
            Failures = _failures,
            GcHeapGrowthMb = Mb(GC.GetTotalMemory(forceFullCollection: true) - heapBefore),
            WorkingSetGrowthMb = Mb(process.WorkingSet64 - workingSetBefore),
            PeakWorkingSetMb = Mb(process.PeakWorkingSet64),
        };
    }

    private async Task SendGrpcAsync((string Description, byte[] Message) fuzzCase)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await _invoker.AsyncUnaryCall(RawModelInfer, null, new CallOptions(Headers(), cancellationToken: timeout.Token), fuzzCase.Message).ResponseAsync;
            Count("grpc OK");
        }
        catch (RpcException e)
        {
            RecordRpcFailure(e, timeout.IsCancellationRequested, "grpc", "grpc", fuzzCase.Description);
        }
    }

    /// <summary>Two hostile messages and a valid one on one stream: the stream goes on after a bad request, or ends with a status that is not
    /// INTERNAL.</summary>
    private async Task SendStreamAsync((string Description, byte[] Message) first, (string Description, byte[] Message) second)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var description = $"stream of [{first.Description}], [{second.Description}] and a valid request";
        var valid = GrpcFuzzCases.Valid(FuzzModels.Served[0].Model, FuzzModels.Served[0].Inputs, raw: true, batch: 1);
        valid.Id = "stream-valid";
        try
        {
            using var call = _invoker.AsyncDuplexStreamingCall(RawModelStreamInfer, null, new CallOptions(Headers(), cancellationToken: timeout.Token));
            var written = 0;
            var stopped = "";
            try
            {
                foreach (var message in new[] { first.Message, second.Message, Google.Protobuf.MessageExtensions.ToByteArray(valid) })
                {
                    await call.RequestStream.WriteAsync(message);
                    written++;
                }

                await call.RequestStream.CompleteAsync();
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or IOException && !timeout.IsCancellationRequested)
            {
                stopped = $", stopped by {e.GetType().Name}: {e.Message}";
                // The server ended the call (a malformed message ends a stream); its status comes with the responses. A write racing the
                // end meets the closed HTTP/2 stream (HttpRequestException, STREAM_CLOSED) rather than a status.
            }

            var validAnswered = false;
            while (await call.ResponseStream.MoveNext(timeout.Token))
            {
                var answer = ModelStreamInferResponse.Parser.ParseFrom(call.ResponseStream.Current);
                validAnswered |= answer.InferResponse?.Id == valid.Id && answer.ErrorMessage.Length == 0;
                if (answer.ErrorMessage.StartsWith(nameof(StatusCode.Internal), StringComparison.Ordinal)
                    || answer.ErrorMessage.StartsWith(nameof(StatusCode.Unknown), StringComparison.Ordinal))
                {
                    Fail(ref _internalErrors, $"grpc stream answer '{Shorten(answer.ErrorMessage)}' for {description}");
                }
            }

            Count(validAnswered ? "stream OK" : "stream OK without the valid answer");
            if (!validAnswered)
            {
                Fail(ref _internalErrors,
                    $"grpc stream ended OK without answering its valid request: {description} ({written} of 3 messages written{stopped})");
            }
        }
        catch (RpcException e)
        {
            RecordRpcFailure(e, timeout.IsCancellationRequested, "grpc stream", "stream", description);
        }
    }

    /// <summary>A call that ended in an error status: a hang when it ran out of time, else counted, and a failure when INTERNAL or UNKNOWN.</summary>
    private void RecordRpcFailure(RpcException e, bool timedOut, string call, string answerLabel, string description)
    {
        if (timedOut)
        {
            Fail(ref _hangs, $"{call} hang: {description}: {e.Status.Detail}");
            return;
        }

        Count($"{answerLabel} {e.StatusCode}");
        if (e.StatusCode is StatusCode.Internal or StatusCode.Unknown)
        {
            Fail(ref _internalErrors, $"{call} {e.StatusCode} for {description}: {Shorten(e.Status.Detail)}");
        }
    }

    private Metadata Headers() => new() { { "authorization", $"Bearer {apiKey}" } };

    private async Task SendRestAsync((string Description, HttpMethod Method, string Path, byte[] Body) fuzzCase)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        using var request = new HttpRequestMessage(fuzzCase.Method, fuzzCase.Path);
        if (fuzzCase.Method == HttpMethod.Post)
        {
            request.Content = new ByteArrayContent(fuzzCase.Body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var status = (int)response.StatusCode;
            Count($"rest {status}");
            if (status >= 500 && status is not (503 or 504))
            {
                Fail(ref _internalErrors, $"rest {status} for {fuzzCase.Description} ({fuzzCase.Path}): {Shorten(await response.Content.ReadAsStringAsync())}");
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Fail(ref _hangs, $"rest hang: {fuzzCase.Description}");
        }
    }

    private async Task CheckServingAsync(int after)
    {
        var inputs = FuzzModels.Served[0].Inputs;
        try
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await _grpc.ModelInferAsync(GrpcFuzzCases.Valid(FuzzModels.Served[0].Model, inputs, raw: true, batch: 1), Headers(),
                cancellationToken: timeout.Token);
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{FuzzModels.Served[0].Model}/infer")
            {
                Content = new StringContent(RestFuzzCases.Valid(inputs, batch: 1).ToJsonString()),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            using var response = await http.SendAsync(request, timeout.Token);
            response.EnsureSuccessStatusCode();
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or OperationCanceledException)
        {
            Fail(ref _crashes, $"valid request failed after {after} cases: {e.Message}");
        }
    }

    private void Count(string answer)
    {
        lock (_answers)
        {
            _answers[answer] = _answers.GetValueOrDefault(answer) + 1;
        }
    }

    private void Fail(ref int counter, string failure)
    {
        lock (_answers)
        {
            counter++;
            if (_failures.Count < MaxFailuresKept)
            {
                _failures.Add(failure);
            }
        }
    }

    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static double Mb(long bytes) => Math.Round(bytes / (1024.0 * 1024.0), 1);
}
