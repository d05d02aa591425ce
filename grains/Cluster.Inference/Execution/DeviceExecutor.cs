using System.Collections.Concurrent;

namespace Cluster.Inference.Execution;

/// <summary>
/// A dedicated thread that runs one device's work items in order, so callers (grain turns) await
/// ONNX Runtime instead of blocking on it.
/// </summary>
public sealed class DeviceExecutor : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;

    /// <summary>Starts the thread.</summary>
    public DeviceExecutor(string deviceName)
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = $"device {deviceName}" };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the device thread.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                completion.SetResult(work());
            }
            catch (Exception e)
            {
                completion.SetException(e);
            }
        });
        return completion.Task;
    }

    /// <summary>Lets queued work finish, then stops the thread.</summary>
    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }

    private void Loop()
    {
        foreach (var item in _work.GetConsumingEnumerable())
        {
            item();
        }
    }
}
