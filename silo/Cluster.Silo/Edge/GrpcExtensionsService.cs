using Cluster.Client;
using Cluster.Client.Protocol;
using Cluster.Contracts.Errors;
using Grpc.Core;

namespace Cluster.Silo.Edge;

/// <summary>The cluster's own gRPC calls beside the protocol's (<c>inference.ClusterExtensions</c>): experiment feedback.</summary>
public sealed class GrpcExtensionsService(InferenceClient client, GrpcErrors errors) : ClusterExtensions.ClusterExtensionsBase
{
    /// <summary>Counts whether the answer to a request was used, for its experiment arm's acceptance rate.</summary>
    public override async Task<ModelFeedbackResponse> ModelFeedback(ModelFeedbackRequest request, ServerCallContext context)
    {
        try
        {
            var model = request.ModelName;
            if (request.Id.Length == 0)
            {
                throw new InvalidInputException($"Feedback for model '{model}': field 'id' must be the id the request was answered with.");
            }

            if (!request.HasAccepted)
            {
                throw new InvalidInputException($"Feedback for model '{model}': field 'accepted' must be true or false.");
            }

            await client.SendFeedbackAsync(model, request.Id, request.Accepted);
            return new ModelFeedbackResponse();
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw errors.Translate(context.Method, e);
        }
    }
}
