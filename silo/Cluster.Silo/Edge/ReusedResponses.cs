using Cluster.Client.Protocol;
using Microsoft.Extensions.ObjectPool;
using OutputTensor = Cluster.Client.Protocol.ModelInferResponse.Types.InferOutputTensor;

namespace Cluster.Silo.Edge;

/// <summary>
/// <c>ModelInfer</c> responses and their output tensors, unary or streamed, reused once gRPC has written them. Nothing touches a
/// response after its serialization (<see cref="MalformedMessageBinding"/> hands a unary one back right after it, the stream's
/// method once its write completed), so its message objects, maps and arrays serve a later request instead of being allocated
/// again for each one. A response that is never written (its call failed or was cancelled first) is left to the collector.
/// </summary>
public static class ReusedResponses
{
    /// <summary>How many of each are kept: more than the requests a busy edge answers at once.</summary>
    private const int Retained = 1024;

    private static readonly ObjectPool<OutputTensor> Tensors = new DefaultObjectPool<OutputTensor>(new TensorPolicy(), Retained);

    private static readonly ObjectPool<ModelInferResponse> Responses = new DefaultObjectPool<ModelInferResponse>(new ResponsePolicy(), Retained);

    /// <summary>An empty response, reused or new.</summary>
    public static ModelInferResponse Response() => Responses.Get();

    /// <summary>An empty output tensor, reused or new.</summary>
    public static OutputTensor Tensor() => Tensors.Get();

    /// <summary>Takes back a response gRPC has written, with its output tensors; nothing may hold either any more.</summary>
    public static void Return(ModelInferResponse response) => Responses.Return(response);

    /// <summary>Clears a response and keeps it only when clearing left nothing set (a field this does not know of, say).</summary>
    private sealed class ResponsePolicy : IPooledObjectPolicy<ModelInferResponse>
    {
        public ModelInferResponse Create() => new();

        public bool Return(ModelInferResponse response)
        {
            // By index: the repeated field's enumerator is an object.
            for (var i = 0; i < response.Outputs.Count; i++)
            {
                Tensors.Return(response.Outputs[i]);
            }

            response.Outputs.Clear();
            response.RawOutputContents.Clear();
            response.Parameters.Clear();
            response.ModelName = "";
            response.ModelVersion = "";
            response.Id = "";
            return response.CalculateSize() == 0;
        }
    }

    /// <summary>Clears an output tensor as <see cref="ResponsePolicy"/> clears a response.</summary>
    private sealed class TensorPolicy : IPooledObjectPolicy<OutputTensor>
    {
        public OutputTensor Create() => new();

        public bool Return(OutputTensor tensor)
        {
            tensor.Name = "";
            tensor.Datatype = "";
            tensor.Shape.Clear();
            tensor.Parameters.Clear();
            tensor.Contents = null;
            return tensor.CalculateSize() == 0;
        }
    }
}
