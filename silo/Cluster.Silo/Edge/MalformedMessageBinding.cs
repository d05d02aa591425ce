using Cluster.Client.Protocol;
using Google.Protobuf;
using Grpc.Core;

namespace Cluster.Silo.Edge;

/// <summary>
/// Binds <see cref="GrpcInferenceService"/> with request marshallers that answer a message which is not
/// valid protobuf with INVALID_ARGUMENT. Without it gRPC reports UNKNOWN ("Exception was thrown by
/// handler"), since messages are parsed before any interceptor runs. A <c>ModelInferRequest</c> is parsed into a reused message
/// (<see cref="ReusedRequests"/>), and a unary call's response, once written, is handed back for reuse (<see cref="ReusedResponses"/>).
/// </summary>
public static class MalformedMessageBinding
{
    /// <summary>Named by <see cref="BindServiceMethodAttribute"/> on the service; gRPC calls it to discover the methods, which it looks up on the parameter's
    /// type.</summary>
    public static void BindService(ServiceBinderBase binder, GRPCInferenceService.GRPCInferenceServiceBase service) =>
        GRPCInferenceService.BindService(new Binder(binder), service);

    private static Method<TRequest, TResponse> Strict<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        var inner = method.RequestMarshaller;
        var parse = typeof(TRequest) == typeof(ModelInferRequest)
            ? context => (TRequest)(object)ReusedRequests.Parse(context.PayloadAsReadOnlySequence())
            : inner.ContextualDeserializer;
        var request = Marshallers.Create(inner.ContextualSerializer, context =>
        {
            try
            {
                return parse(context);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"The {typeof(TRequest).Name} message is not valid protobuf: {e.Message}"));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, request, Responses(method));
    }

    /// <summary>A unary call's <c>ModelInferResponse</c>, once written, goes back to <see cref="ReusedResponses"/>; other responses as generated.</summary>
    private static Marshaller<TResponse> Responses<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        if (method.Type != MethodType.Unary || method.ResponseMarshaller is not Marshaller<ModelInferResponse> inner)
        {
            return method.ResponseMarshaller;
        }

        var reusing = Marshallers.Create<ModelInferResponse>((response, context) =>
        {
            inner.ContextualSerializer(response, context);
            ReusedResponses.Return(response);
        }, inner.ContextualDeserializer);
        return (Marshaller<TResponse>)(object)reusing;
    }

    private sealed class Binder(ServiceBinderBase inner) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Strict(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Strict(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Strict(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Strict(method), handler);
    }
}
