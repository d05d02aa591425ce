using System.Diagnostics;
using Cluster.Inference.Generation;

namespace Cluster.Inference.Telemetry;

/// <summary>
/// The <c>generate</c> span of one generation on its replica, from the request's arrival to its last token:
/// tags <c>model</c>, <c>version</c>, <c>silo</c>, <c>request.id</c>, <c>prompt.tokens</c>,
/// <c>generated.tokens</c>, <c>finish.reason</c> and <c>ttft.ms</c>, and a <c>first_token</c> event. A
/// generation that ends without a finish reason (an error, or a caller that left) ends the span with an error.
/// Detached (<see cref="InferenceTracing.StartDetached"/>), since it ends after many yields to the caller.
/// </summary>
public sealed class GenerationSpan : IDisposable
{
    private readonly Activity? _activity;
    private readonly TimeProvider _time;
    private readonly long _started;
    private GenerationUpdate _last;

    /// <summary>Starts the span; the time to first token counts from now.</summary>
    public GenerationSpan(string model, long version, string silo, string requestId, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _started = time.GetTimestamp();
        _activity = InferenceTracing.StartDetached("generate", ("model", model), ("version", version), ("silo", silo), ("request.id", requestId));
    }

    /// <summary>Notes an update of the stream: the first token's time, the token counts, the finish reason.</summary>
    public void Record(GenerationUpdate update)
    {
        if (_activity is null)
        {
            return;
        }

        if (_last.GeneratedTokens == 0 && update.GeneratedTokens > 0)
        {
            var ttft = _time.GetElapsedTime(_started);
            _activity.SetTag("ttft.ms", Math.Round(ttft.TotalMilliseconds, 3));
            _activity.AddEvent(new ActivityEvent("first_token"));
        }

        _last = update;
    }

    /// <summary>Ends the span.</summary>
    public void Dispose()
    {
        if (_activity is null)
        {
            return;
        }

        _activity.SetTag("prompt.tokens", _last.PromptTokens);
        _activity.SetTag("generated.tokens", _last.GeneratedTokens);
        if (_last.FinishReason is { } reason)
        {
            _activity.SetTag("finish.reason", reason);
        }
        else
        {
            _activity.SetStatus(ActivityStatusCode.Error, "The generation ended without a finish reason: it failed, or its caller left.");
        }

        _activity.Stop();
    }
}
