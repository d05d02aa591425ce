using Cluster.Contracts.Errors;

namespace Cluster.Inference.Execution;

/// <summary>
/// A dedicated thread that runs one device session's work items in order, so callers (grain turns)
/// await ONNX Runtime instead of blocking on it. The idle thread sleeps in the kernel rather than
/// spinning, leaving the cores to the batcher and to ONNX Runtime's own threads.
/// </summary>
/// <remarks>
/// A work item's awaiter resumes on this thread, unless it awaits from a scheduler of its own (a grain turn resumes
/// on its activation): a batch's results reach its requests with no thread-pool thread woken in between (the batcher
/// then forms the next batch on the thread pool). Continuations that block would stall the device, so none here do.
/// </remarks>
public sealed class DeviceExecutor : IDisposable
{
    private readonly Queue<Action> _work = new();
    private readonly object _gate = new();
    private readonly string _deviceName;
    private bool _completed;

    /// <summary>Starts the thread.</summary>
    public DeviceExecutor(string deviceName)
    {
        _deviceName = deviceName;
        new Thread(Loop) { IsBackground = true, Name = $"device {deviceName}" }.Start();
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the device thread. Once disposed (its model unloaded, its silo stopping) it refuses
    /// with <see cref="ReplicaNotStartedException"/>: nothing ran, so the request may go to another replica.
    /// </summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>();
        lock (_gate)
        {
            if (_completed)
            {
                throw new ReplicaNotStartedException($"The session on device '{_deviceName}' was unloaded (its model was unloaded or its silo is " +
                    "stopping) before the batch ran; retry it on another replica.");
            }

            _work.Enqueue(() =>
            {
                T result;
                try
                {
                    result = work();
                }
                catch (Exception e)
                {
                    completion.SetException(e);
                    return;
                }

                completion.SetResult(result);
            });
            Monitor.Pulse(_gate);
        }

        return completion.Task;
    }

    /// <summary>Refuses new work; the thread finishes what is queued, then ends. Does not wait for it.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.Pulse(_gate);
        }
    }

    private void Loop()
    {
        while (true)
        {
            Action item;
            lock (_gate)
            {
                while (_work.Count == 0)
                {
                    if (_completed)
                    {
                        return;
                    }

                    Monitor.Wait(_gate);
                }

                item = _work.Dequeue();
            }

            item();
        }
    }
}
