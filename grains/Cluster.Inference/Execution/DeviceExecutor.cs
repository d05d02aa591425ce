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
/// An item may instead run on the thread that asked (<see cref="RunAsync{T}(Func{T}, bool)"/>) while the device is idle;
/// items still never overlap, and a queued one waits for it. The device is idle again as soon as an item's work ends, before
/// its result goes out, so a lone item need not wait for the continuations of the one before.
/// </remarks>
public sealed class DeviceExecutor : IDisposable
{
    private readonly Queue<Action> _work = new();
    private readonly object _gate = new();
    private readonly string _deviceName;
    private bool _completed;

    /// <summary>An item's work runs on the thread that asked for it or the device thread: nothing else may start. Under the lock.</summary>
    private bool _busy;

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
    public Task<T> RunAsync<T>(Func<T> work) => RunAsync(work, onCallerWhenIdle: false);

    /// <inheritdoc cref="RunAsync{T}(Func{T}, bool, bool)"/>
    public Task<T> RunAsync<T>(Func<T> work, bool onCallerWhenIdle) => RunAsync(work, onCallerWhenIdle, atOnceInATurn: false);

    /// <summary>
    /// Runs <paramref name="work"/> on the device thread or, with <paramref name="onCallerWhenIdle"/> when the caller is a thread-pool
    /// thread and the device is idle, on that thread: at once, returning a completed task, or, when the caller runs under a task
    /// scheduler of its own (a grain turn), once it has handed back its call (its local queue), before anything else it has queued, unless
    /// <paramref name="atOnceInATurn"/> (the caller judged that no call waits behind the turn). No thread is woken to start it, and what awaits it
    /// continues there too. Refuses like <see cref="RunAsync{T}(Func{T})"/> once disposed.
    /// </summary>
    public Task<T> RunAsync<T>(Func<T> work, bool onCallerWhenIdle, bool atOnceInATurn)
    {
        var item = new WorkItem<T>(this, work);
        lock (_gate)
        {
            if (_completed)
            {
                throw new ReplicaNotStartedException($"The session on device '{_deviceName}' was unloaded (its model was unloaded or its silo is " +
                    "stopping) before the batch ran; retry it on another replica.");
            }

            var onCaller = onCallerWhenIdle && !_busy && _work.Count == 0 && Thread.CurrentThread.IsThreadPoolThread;
            if (!onCaller)
            {
                _work.Enqueue(item.RunOnDevice);
                if (!_busy)
                {
                    // Busy on the device thread, it is not waiting; busy on another, it is woken when that item ends.
                    Monitor.Pulse(_gate);
                }

                return item.Task;
            }

            _busy = true;
            if (!atOnceInATurn && TaskScheduler.Current != TaskScheduler.Default)
            {
                // A scheduler of its own (a grain's activation) runs one turn at a time: run there, the item would hold back the requests
                // behind it, which would then reach the batcher one at a time. It runs once the turn has handed back its call.
                ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal: true);
                return item.Task;
            }
        }

        // Outside the lock: a queued item waits for this one, and the device thread is woken when it ends.
        item.RunOnCaller();
        return item.Task;
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
                while (_work.Count == 0 || _busy)
                {
                    if (_completed && _work.Count == 0)
                    {
                        return;
                    }

                    Monitor.Wait(_gate);
                }

                item = _work.Dequeue();
                _busy = true;
            }

            item();
        }
    }

    /// <summary>
    /// An item's work ended: the device may start the next. Ended on the thread that asked, the device thread is woken if it
    /// waits for queued work; on the device thread, which is running, there is nobody to wake.
    /// </summary>
    private void Finished(bool ranByCaller)
    {
        lock (_gate)
        {
            _busy = false;
            if (ranByCaller && (_work.Count > 0 || _completed))
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    /// <summary>One work item and its task, run on either thread.</summary>
    private sealed class WorkItem<T>(DeviceExecutor executor, Func<T> work) : IThreadPoolWorkItem
    {
        private readonly TaskCompletionSource<T> _completion = new();

        public Task<T> Task => _completion.Task;

        /// <summary>Runs on the device thread.</summary>
        public void RunOnDevice() => Run(ranByCaller: false);

        /// <summary>Runs on the thread that asked, at once.</summary>
        public void RunOnCaller() => Run(ranByCaller: true);

        /// <summary>Runs on the thread that asked, from its local queue.</summary>
        void IThreadPoolWorkItem.Execute() => Run(ranByCaller: true);

        /// <summary>
        /// The device is idle again before the result goes out, on either thread: what continues inline (the awaiter, on the thread that
        /// ran the work) may use it, and a lone request arriving meanwhile need not wait for those continuations.
        /// </summary>
        private void Run(bool ranByCaller)
        {
            Exception? error = null;
            T result = default!;
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                error = e;
            }

            executor.Finished(ranByCaller);

            if (error is null)
            {
                _completion.SetResult(result);
            }
            else
            {
                _completion.SetException(error);
            }
        }
    }
}
