using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Microsoft.Extensions.ObjectPool;

namespace Cluster.Client;

/// <summary>
/// A request handed to a replica in this process, with no async frame of its own: it counts for the router
/// (<see cref="Routing.ReplicaRouter.Track"/>) until the replica answers, and one the replica did not start
/// (<see cref="ReplicaNotStartedException"/>) goes to the transport's routed loop, with that replica tried. A hand-over serves
/// a later request once its caller has taken the answer; the caller awaits it once.
/// </summary>
internal sealed class LocalHandOver : IValueTaskSource<InferenceResponse>
{
    /// <summary>Idle hand-overs, at most 1,024 kept: more than a silo's edge keeps in flight.</summary>
    private static readonly ObjectPool<LocalHandOver> Spare = new DefaultObjectPool<LocalHandOver>(new SparePolicy(), 1024);

    private readonly Action _replicaAnswered;
    private readonly Action _routedAnswered;
    private ManualResetValueTaskSourceCore<InferenceResponse> _completion;
    private ConfiguredValueTaskAwaitable<InferenceResponse>.ConfiguredValueTaskAwaiter _replica;
    private TaskAwaiter<InferenceResponse> _routed;
    private OrleansTransport? _transport;
    private ModelTarget? _target;
    private InferenceRequest? _request;
    private string _key = "";
    private IDisposable? _tracked;
    private CancellationToken _cancellationToken;

    private LocalHandOver()
    {
        _replicaAnswered = ReplicaAnswered;
        _routedAnswered = RoutedAnswered;
    }

    /// <summary>Hands <paramref name="request"/> to <paramref name="serve"/>, the entry point of replica <paramref name="key"/> in this process.</summary>
    public static ValueTask<InferenceResponse> Start(OrleansTransport transport, ModelTarget target, InferenceRequest request, string key,
        Func<InferenceRequest, CancellationToken, ValueTask<InferenceResponse>> serve, CancellationToken cancellationToken)
    {
        var tracked = transport.Router.Track(key);
        ValueTask<InferenceResponse> answer;
        try
        {
            answer = serve(request, cancellationToken);
        }
        catch (ReplicaNotStartedException)
        {
            tracked.Dispose();
            return new(transport.InferRoutedAsync(target, request, [key], cancellationToken));
        }
        catch (Exception e)
        {
            // Bad input and the like: a faulted answer, as an async method would give, not an exception from the call.
            tracked.Dispose();
            return ValueTask.FromException<InferenceResponse>(e);
        }

        var handOver = Spare.Get();
        handOver._transport = transport;
        handOver._target = target;
        handOver._request = request;
        handOver._key = key;
        handOver._tracked = tracked;
        handOver._cancellationToken = cancellationToken;
        handOver._replica = answer.ConfigureAwait(false).GetAwaiter();
        var pending = new ValueTask<InferenceResponse>(handOver, handOver._completion.Version);
        if (handOver._replica.IsCompleted)
        {
            handOver.ReplicaAnswered();
        }
        else
        {
            handOver._replica.UnsafeOnCompleted(handOver._replicaAnswered);
        }

        return pending;
    }

    /// <summary>The replica's answer is in, on the thread that completed it: the caller continues there.</summary>
    private void ReplicaAnswered()
    {
        _tracked!.Dispose();
        _tracked = null;
        InferenceResponse response;
        try
        {
            response = _replica.GetResult();
        }
        catch (ReplicaNotStartedException)
        {
            _routed = _transport!.InferRoutedAsync(_target!, _request!, [_key], _cancellationToken).GetAwaiter();
            _routed.UnsafeOnCompleted(_routedAnswered);
            return;
        }
        catch (Exception e)
        {
            _completion.SetException(e);
            return;
        }

        _completion.SetResult(response);
    }

    private void RoutedAnswered()
    {
        try
        {
            _completion.SetResult(_routed.GetResult());
        }
        catch (Exception e)
        {
            _completion.SetException(e);
        }
    }

    ValueTaskSourceStatus IValueTaskSource<InferenceResponse>.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource<InferenceResponse>.OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _completion.OnCompleted(continuation, state, token, flags);

    InferenceResponse IValueTaskSource<InferenceResponse>.GetResult(short token)
    {
        if (token != _completion.Version || _completion.GetStatus(token) == ValueTaskSourceStatus.Pending)
        {
            // Awaited twice, or read before its end: the completion throws, and this life is not over.
            return _completion.GetResult(token);
        }

        try
        {
            return _completion.GetResult(token);
        }
        finally
        {
            Spare.Return(this);
        }
    }

    /// <summary>Makes hand-overs, and ends a life: drops what it held and moves the completion to its next version.</summary>
    private sealed class SparePolicy : IPooledObjectPolicy<LocalHandOver>
    {
        public LocalHandOver Create() => new();

        public bool Return(LocalHandOver handOver)
        {
            handOver._transport = null;
            handOver._target = null;
            handOver._request = null;
            handOver._key = "";
            handOver._replica = default;
            handOver._routed = default;
            handOver._cancellationToken = default;
            handOver._completion.Reset();
            return true;
        }
    }
}
