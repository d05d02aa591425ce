using Cluster.Contracts.Tensors;

namespace Cluster.Contracts.Models;

/// <summary>One inference call: inputs for a model version, and which outputs to return.</summary>
[GenerateSerializer, Immutable]
public sealed record InferenceRequest
{
    /// <summary>Caller-chosen id, echoed in the response.</summary>
    [Id(0)] public string Id { get; init; } = "";

    /// <summary>The model's inputs.</summary>
    [Id(1)] public required TensorData[] Inputs { get; init; }

    /// <summary>Outputs to return; empty returns every output.</summary>
    [Id(2)] public string[] RequestedOutputs { get; init; } = [];

    /// <summary>Priority level (1 is highest); 0 for the model's default.</summary>
    [Id(3)] public int Priority { get; init; }

    /// <summary>Queue timeout in microseconds (Triton's <c>timeout</c> parameter); 0 for the model's default.</summary>
    [Id(4)] public long TimeoutMicroseconds { get; init; }

    /// <summary>The caller's deadline; a request still queued then is rejected.</summary>
    [Id(5)] public DateTimeOffset? Deadline { get; init; }

    /// <summary>
    /// The caller's experiment assignment key (a user or session id): while the model runs an experiment, requests with
    /// one key always go to the same arm; empty draws an arm per request.
    /// </summary>
    [Id(6)] public string AssignmentKey { get; init; } = "";
}

/// <summary>The outputs of one inference call.</summary>
[GenerateSerializer, Immutable]
public sealed record InferenceResponse
{
    /// <summary>The model that ran.</summary>
    [Id(0)] public required string Model { get; init; }

    /// <summary>The version that ran.</summary>
    [Id(1)] public required long Version { get; init; }

    /// <summary>The request's id.</summary>
    [Id(2)] public string Id { get; init; } = "";

    /// <summary>The outputs, in the model's order.</summary>
    [Id(3)] public required TensorData[] Outputs { get; init; }

    /// <summary>The experiment arm that answered (<c>{experiment id}.{arm}</c>); empty outside experiments.</summary>
    [Id(4)] public string Arm { get; init; } = "";

    /// <summary>The output with the given name.</summary>
    public TensorData Output(string name) =>
        Array.Find(Outputs, o => o.Name == name) ?? throw new KeyNotFoundException($"Model '{Model}' version {Version} returned no output '{name}'.");
}
