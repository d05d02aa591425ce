using System.Buffers;
using Cluster.Client.Protocol;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Google.Protobuf.Reflection;
using Microsoft.Extensions.ObjectPool;
using InferInputTensor = Cluster.Client.Protocol.ModelInferRequest.Types.InferInputTensor;
using InferRequestedOutputTensor = Cluster.Client.Protocol.ModelInferRequest.Types.InferRequestedOutputTensor;

namespace Cluster.Silo.Edge;

/// <summary>
/// <c>ModelInferRequest</c> messages, unary or streamed, parsed into a message a finished request handed back rather than a new one:
/// the message, its maps, its repeated fields' arrays and its input tensors' messages serve a later request.
/// <see cref="MalformedMessageBinding"/> parses with <see cref="Parse"/>; the service's methods hand a request back once nothing reads
/// it any more, its call answered. What the cluster keeps of a request (names, ids, the tensors' bytes) is its own objects, never the
/// message's fields, so clearing them takes nothing from a request still running. One never handed back is left to the collector.
/// </summary>
public static class ReusedRequests
{
    /// <summary>How many requests, and input tensors, are kept: more than a busy edge reads at once.</summary>
    private const int Retained = 1024;

    private static readonly ObjectPool<ModelInferRequest> Requests = new DefaultObjectPool<ModelInferRequest>(new RequestPolicy(), Retained);

    private static readonly ObjectPool<InferInputTensor> Inputs = new DefaultObjectPool<InferInputTensor>(new InputPolicy(), Retained);

    /// <summary>The parser of this thread: parsing is synchronous, so one per thread serves every message it reads.</summary>
    [ThreadStatic]
    private static RequestParser? t_parser;

    /// <summary>Parses <paramref name="payload"/> into an empty request, reused or new; throws InvalidProtocolBufferException for bad protobuf.</summary>
    public static ModelInferRequest Parse(ReadOnlySequence<byte> payload)
    {
        var request = Requests.Get();
        var parser = t_parser ??= new RequestParser();
        parser.Target = request;
        try
        {
            parser.MergeFrom(payload);
        }
        finally
        {
            parser.Target = null;
        }

        return request;
    }

    /// <summary>Takes back a request once its call is answered; nothing may read it any more.</summary>
    public static void Return(ModelInferRequest request) => Requests.Return(request);

    /// <summary>Clears a request and keeps it only when clearing left nothing set (a field this does not know of, say); its inputs go back too.</summary>
    private sealed class RequestPolicy : IPooledObjectPolicy<ModelInferRequest>
    {
        public ModelInferRequest Create() => new();

        public bool Return(ModelInferRequest request)
        {
            // Indexed: the repeated field's enumerator is an object.
            for (var i = 0; i < request.Inputs.Count; i++)
            {
                Inputs.Return(request.Inputs[i]);
            }

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

    /// <summary>Clears an input tensor's message (its shape keeps its array) and keeps it only when clearing left nothing set.</summary>
    private sealed class InputPolicy : IPooledObjectPolicy<InferInputTensor>
    {
        public InferInputTensor Create() => new();

        public bool Return(InferInputTensor input)
        {
            input.Name = "";
            input.Datatype = "";
            input.Shape.Clear();
            input.Parameters.Clear();
            input.Contents = null;
            return input.CalculateSize() == 0;
        }
    }

    /// <summary>
    /// Reads <c>ModelInferRequest</c>'s wire format into <see cref="Target"/> as its generated parser does, except that each input
    /// tensor is read into a message from <see cref="Inputs"/>. A field it does not know of is read and dropped, as the service
    /// never looks at one.
    /// </summary>
    private sealed class RequestParser : IMessage, IBufferMessage
    {
        // The proto's tags: field number << 3, with wire type 2 (length-delimited) for every field of the message.
        private const uint ModelNameTag = 10;
        private const uint ModelVersionTag = 18;
        private const uint IdTag = 26;
        private const uint ParametersTag = 34;
        private const uint InputsTag = 42;
        private const uint OutputsTag = 50;
        private const uint RawInputContentsTag = 58;

        private static readonly MapField<string, InferParameter>.Codec ParametersCodec =
            new(FieldCodec.ForString(10, ""), FieldCodec.ForMessage(18, InferParameter.Parser), ParametersTag);

        private static readonly FieldCodec<InferRequestedOutputTensor> OutputsCodec = FieldCodec.ForMessage(OutputsTag, InferRequestedOutputTensor.Parser);

        private static readonly FieldCodec<ByteString> RawInputContentsCodec = FieldCodec.ForBytes(RawInputContentsTag);

        public ModelInferRequest? Target { get; set; }

        public MessageDescriptor Descriptor => ModelInferRequest.Descriptor;

        public void InternalMergeFrom(ref ParseContext input)
        {
            var request = Target!;
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (tag)
                {
                    case ModelNameTag:
                        request.ModelName = input.ReadString();
                        break;
                    case ModelVersionTag:
                        request.ModelVersion = input.ReadString();
                        break;
                    case IdTag:
                        request.Id = input.ReadString();
                        break;
                    case ParametersTag:
                        request.Parameters.AddEntriesFrom(ref input, ParametersCodec);
                        break;
                    case InputsTag:
                        var tensor = Inputs.Get();
                        input.ReadMessage(tensor);
                        request.Inputs.Add(tensor);
                        break;
                    case OutputsTag:
                        request.Outputs.AddEntriesFrom(ref input, OutputsCodec);
                        break;
                    case RawInputContentsTag:
                        request.RawInputContents.AddEntriesFrom(ref input, RawInputContentsCodec);
                        break;
                    default:
                        UnknownFieldSet.MergeFieldFrom(null, ref input);
                        break;
                }
            }
        }

        public void MergeFrom(CodedInputStream input) => input.ReadRawMessage(this);

        public void WriteTo(CodedOutputStream output) => throw new NotSupportedException("A parser of requests writes nothing.");

        public void InternalWriteTo(ref WriteContext output) => throw new NotSupportedException("A parser of requests writes nothing.");

        public int CalculateSize() => 0;
    }
}
