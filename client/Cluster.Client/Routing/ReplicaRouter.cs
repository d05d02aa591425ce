using System.Collections.Concurrent;
using Cluster.Contracts.Load;

namespace Cluster.Client.Routing;

/// <summary>
/// Chooses a model version's replica for each request by power of two choices weighted by capacity: two
/// distinct replicas are drawn with probability proportional to their capacity, and the one with the
/// smaller load per unit of capacity wins, its load being the queue its silo last reported plus the
/// requests this router has in flight to it. The table comes from the cluster's load board, read in the
/// background every <see cref="IClusterLoadGrain.ReportInterval"/> (a board that may be incomplete keeps the last
/// table); a choice makes no call. The board also lists the silos membership declared dead, so callers can stop
/// waiting for answers from them. A generation goes back to the replica that served a prompt sharing a long start
/// with its own (<see cref="ChooseForPrompt"/>), so that replica's prefix cache serves that start. Thread-safe.
/// </summary>
public sealed class ReplicaRouter : IDisposable
{
    /// <summary>How long <see cref="WaitForFirstTableAsync"/> waits at most for the first reading of the board.</summary>
    public static readonly TimeSpan FirstTableWait = TimeSpan.FromSeconds(2);

    /// <summary>How long one reading of the board may take before the next tick asks again.</summary>
    private static readonly TimeSpan BoardReadTimeout = IClusterLoadGrain.ReportInterval * 2;

    private readonly ConcurrentDictionary<string, InFlight> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _deaths = new(StringComparer.Ordinal);
    private readonly Func<Task<ClusterLoad>>? _readBoard;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _firstReading = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary><see cref="IsDead"/> as a delegate made once: a method group converts to a new delegate on every call.</summary>
    private readonly Func<string, bool> _isDead;
    private volatile ReplicaTable _table = ReplicaTable.Empty;
    private int _started;
    private long _remembered;
    private long _followed;

    /// <summary>A router refreshing its table from <paramref name="readBoard"/> once first used; null keeps the table given to <see cref="Update"/>.</summary>
    public ReplicaRouter(Func<Task<ClusterLoad>>? readBoard = null)
    {
        _isDead = IsDead;
        _readBoard = readBoard;
        if (readBoard is null)
        {
            _firstReading.SetResult();
        }
    }

    /// <summary>The shortest remembered prompt start, in characters, that sends a generation back to the replica that served it.</summary>
    public int MinSharedChars { get; init; } = 256;

    /// <summary>
    /// How much more load per capacity (for a generation replica, about tokens it still owes) the replica holding a
    /// prompt's start may carry than the least-loaded one before the prompt goes to the normal choice instead.
    /// </summary>
    public double OverloadMargin { get; init; } = 8192;

    /// <summary>The memory of which replica served recent prompts.</summary>
    public PrefixAffinity Affinity { get; } = new();

    /// <summary>Generations whose start was remembered (at least <see cref="MinSharedChars"/>), and how many of them went back to the replica holding
    /// it.</summary>
    public (long Remembered, long Followed) AffinityCounts => (Interlocked.Read(ref _remembered), Interlocked.Read(ref _followed));

    /// <summary>The current table.</summary>
    public ReplicaTable Table => _table;

    /// <summary>Replaces the table.</summary>
    public void Update(ReplicaTable table) => _table = table ?? throw new ArgumentNullException(nameof(table));

    /// <summary>Completes once the board lists <paramref name="silo"/> as declared dead (see <see cref="ClusterLoad.DeadSilos"/>).</summary>
    public Task WhenDead(string silo) =>
        _deaths.GetOrAdd(silo, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Marks the silos the board lists as dead, and forgets a death once a silo of that name is back.</summary>
    public void UpdateDeaths(ClusterLoad load)
    {
        ArgumentNullException.ThrowIfNull(load);
        foreach (var silo in load.DeadSilos)
        {
            _deaths.GetOrAdd(silo, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        foreach (var silo in load.Silos)
        {
            if (_deaths.TryGetValue(silo.Silo, out var death) && death.Task.IsCompleted)
            {
                _deaths.TryRemove(new KeyValuePair<string, TaskCompletionSource>(silo.Silo, death));
            }
        }
    }

    /// <summary>Whether the first reading of the board is in: <see cref="WaitForFirstTableAsync"/> would complete at once.</summary>
    public bool HasFirstTable => _firstReading.Task.IsCompleted;

    /// <summary>
    /// Starts reading the board and waits (at most <see cref="FirstTableWait"/>) until the first reading has come
    /// back, so that a new client's first burst of requests is routed instead of all going to replica 0.
    /// Completes at once after that.
    /// </summary>
    public async ValueTask WaitForFirstTableAsync(CancellationToken cancellationToken)
    {
        StartRefreshing();
        if (_firstReading.Task.IsCompleted)
        {
            return;
        }

        try
        {
            await _firstReading.Task.WaitAsync(FirstTableWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // The board is slow to answer: route with what there is (replica 0) rather than hold requests.
        }
    }

    /// <summary>
    /// The replica a request for the model version should go to (its key and the silo the table places it on),
    /// skipping the keys in <paramref name="tried"/>; null when the table has no other ready replica.
    /// </summary>
    public RouteEntry? Choose(string model, long version, IReadOnlyCollection<string>? tried = null)
    {
        StartRefreshing();
        var (replicas, draw) = _table.Of(model, version);
        var first = draw is null ? null : Draw(replicas, draw, tried, null, _isDead);
        if (first is null)
        {
            return null;
        }

        var second = Draw(replicas, draw!, tried, first, _isDead);
        return second is null || LoadPerCapacity(first) <= LoadPerCapacity(second) ? first : second;
    }

    /// <summary>
    /// The replica a generation of <paramref name="prompt"/> should go to: the one that served the longest remembered
    /// start of it (at least <see cref="MinSharedChars"/> characters), unless it was tried, its silo is dead or its
    /// load per capacity exceeds the least-loaded eligible replica's by more than <see cref="OverloadMargin"/>; else
    /// <see cref="Choose"/>'s choice. Remembers the prompt as served by the replica returned.
    /// </summary>
    public RouteEntry? ChooseForPrompt(string model, long version, string prompt, IReadOnlyCollection<string>? tried = null)
    {
        var chosen = Choose(model, version, tried);
        if (chosen is null)
        {
            return null;
        }

        var scope = $"{model}:{version}";
        if (Affinity.Find(scope, prompt) is { } found && found.SharedChars >= MinSharedChars)
        {
            Interlocked.Increment(ref _remembered);
            var eligible = Array.FindAll(_table.Of(model, version).Replicas, e => (tried is null || !tried.Contains(e.Key)) && !IsDead(e.Silo));
            var holder = Array.Find(eligible, e => e.Key == found.Replica);
            if (holder is not null && LoadPerCapacity(holder) <= eligible.Min(LoadPerCapacity) + OverloadMargin)
            {
                Interlocked.Increment(ref _followed);
                chosen = holder;
            }
        }

        Affinity.Record(scope, prompt, chosen.Key);
        return chosen;
    }

    /// <summary>Counts a request sent to <paramref name="key"/> until the returned handle is disposed.</summary>
    public IDisposable Track(string key)
    {
        var counter = _inFlight.GetOrAdd(key, _ => new InFlight());
        Interlocked.Increment(ref counter.Count);
        return counter;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    /// <summary>
    /// A capacity-weighted draw, skipping <paramref name="tried"/>, <paramref name="other"/> and replicas on silos
    /// declared dead since the table was read (a few redraws, then a scan).
    /// </summary>
    private static RouteEntry? Draw(RouteEntry[] replicas, CapacityDraw draw, IReadOnlyCollection<string>? tried, RouteEntry? other, Func<string, bool> isDead)
    {
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var entry = replicas[draw.Next(Random.Shared)];
            if (Eligible(entry, tried, other, isDead))
            {
                return entry;
            }
        }

        foreach (var entry in replicas)
        {
            if (Eligible(entry, tried, other, isDead))
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>A replica a draw may return (a static method, not a closure: a draw runs for every request).</summary>
    private static bool Eligible(RouteEntry entry, IReadOnlyCollection<string>? tried, RouteEntry? other, Func<string, bool> isDead) =>
        entry != other && (tried is null || !tried.Contains(entry.Key)) && !isDead(entry.Silo);

    private bool IsDead(string silo) => _deaths.TryGetValue(silo, out var death) && death.Task.IsCompleted;

    private double LoadPerCapacity(RouteEntry entry) =>
        (entry.ReportedQueue + (_inFlight.TryGetValue(entry.Key, out var counter) ? Volatile.Read(ref counter.Count) : 0) + 1) / entry.Capacity;

    private void StartRefreshing()
    {
        if (_readBoard is null || Interlocked.Exchange(ref _started, 1) == 1)
        {
            return;
        }

        _ = RefreshAsync(_stop.Token);
    }

    private async Task RefreshAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(IClusterLoadGrain.ReportInterval);
        do
        {
            try
            {
                // Bounded: when the board's grain was on a silo that died, a call to it waits for Orleans' response
                // timeout, and the deaths it would report are what callers wait for; the next tick asks again.
                var board = await _readBoard!().WaitAsync(BoardReadTimeout, stop);
                UpdateDeaths(board);

                // A board just activated again (its grain moved with a stopping or lost silo) may miss silos that have
                // not reported to it yet: until it is complete, the last table (less dead silos' replicas, which the
                // draw skips) beats losing their replicas or sending every request to replica 0, which would activate it cold.
                if ((board.Complete && board.Silos.Length > 0) || _table.Count == 0)
                {
                    _table = ReplicaTable.From(board);
                }
            }
            catch (ObjectDisposedException)
            {
                _firstReading.TrySetResult();
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The board's grain may be moving; keep the last table until the next reading.
            }

            _firstReading.TrySetResult();
        }
        while (await WaitAsync(timer, stop));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    private sealed class InFlight : IDisposable
    {
        public int Count;

        public void Dispose() => Interlocked.Decrement(ref Count);
    }
}
