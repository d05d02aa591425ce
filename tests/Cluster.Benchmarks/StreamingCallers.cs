using Cluster.Client.Protocol;
using Grpc.Core;

namespace Cluster.Benchmarks;

/// <summary>
/// Callers that each keep one <c>ModelStreamInfer</c> stream open (as tritonclient's <c>async_stream_infer</c>
/// and perf_analyzer's <c>--streaming</c> do) and send their requests on it one at a time, each waiting for its
/// answer. The streams are opened on first use and stay open until disposed.
/// </summary>
public sealed class StreamingCallers(GRPCInferenceService.GRPCInferenceServiceClient stub, ModelInferRequest request, int callers) : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<ModelInferRequest, ModelStreamInferResponse>?[] _streams = new AsyncDuplexStreamingCall<ModelInferRequest,
        ModelStreamInferResponse>?[callers];

    /// <summary>Sends one request on caller <paramref name="caller"/>'s stream and waits for its answer; an error answer fails the call.</summary>
    public async Task CallAsync(int caller)
    {
        var stream = _streams[caller] ??= stub.ModelStreamInfer();
        await stream.RequestStream.WriteAsync(request);
        if (!await stream.ResponseStream.MoveNext(CancellationToken.None))
        {
            throw new InvalidOperationException($"Stream {caller} ended before answering.");
        }

        if (stream.ResponseStream.Current.ErrorMessage is { Length: > 0 } error)
        {
            throw new InvalidOperationException($"Stream {caller} answered with an error: {error}");
        }
    }

    /// <summary>Closes every open stream; one that already failed is only disposed.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var stream in _streams)
        {
            if (stream is null)
            {
                continue;
            }

            try
            {
                await stream.RequestStream.CompleteAsync();
                while (await stream.ResponseStream.MoveNext(CancellationToken.None))
                {
                }
            }
            catch (RpcException)
            {
                // The stream already ended with an error, which the call that met it reported.
            }
            finally
            {
                stream.Dispose();
            }
        }
    }
}
