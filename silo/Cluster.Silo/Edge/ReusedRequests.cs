using System.Buffers;
using Cluster.Client.Protocol;
using Google.Protobuf;
using Microsoft.Extensions.ObjectPool;

namespace Cluster.Silo.Edge;

/// <summary>
/// <c>ModelInferRequest</c> messages, unary or streamed, parsed into a message a finished request handed back rather than a new one:
/// the message, its maps and its repeated fields' arrays serve a later request (the input tensors in it are parsed anew each time).
/// <see cref="MalformedMessageBinding"/> parses with <see cref="Parse"/>; the service's methods hand a request back once nothing reads
/// it any more, its call answered. What the cluster keeps of a request (names, ids, the tensors' bytes) is its own objects, never the
/// message's fields, so clearing them takes nothing from a request still running. One never handed back is left to the collector.
/// </summary>
public static class ReusedRequests
{
    /// <summary>How many are kept: more than the requests a busy edge reads at once.</summary>
    private const int Retained = 1024;

    private static readonly ObjectPool<ModelInferRequest> Requests = new DefaultObjectPool<ModelInferRequest>(new RequestPolicy(), Retained);

    /// <summary>Parses <paramref name="payload"/> into an empty request, reused or new; throws InvalidProtocolBufferException for bad protobuf.</summary>
    public static ModelInferRequest Parse(ReadOnlySequence<byte> payload)
    {
        var request = Requests.Get();
        request.MergeFrom(payload);
        return request;
    }

    /// <summary>Takes back a request once its call is answered; nothing may read it any more.</summary>
    public static void Return(ModelInferRequest request) => Requests.Return(request);

    /// <summary>Clears a request and keeps it only when clearing left nothing set (a field this does not know of, say).</summary>
    private sealed class RequestPolicy : IPooledObjectPolicy<ModelInferRequest>
    {
        public ModelInferRequest Create() => new();

        public bool Return(ModelInferRequest request)
        {
            request.ModelName = "";
            request.ModelVersion = "";
            request.Id = "";
            request.Parameters.Clear();
            request.Inputs.Clear();
            request.Outputs.Clear();
            request.RawInputContents.Clear();
            return request.CalculateSize() == 0;
        }
    }
}
