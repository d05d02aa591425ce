using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Cluster.Tests.Shared;

/// <summary>
/// Kills the processes a test run or a benchmark started when its own process ends without disposing them (an
/// unhandled exception, Ctrl+C, SIGTERM): a silo, a peer or a redis-server left behind keeps its ports and a core busy
/// and skews the next run's figures.
/// </summary>
public static class OrphanGuard
{
    private static readonly ConcurrentDictionary<Process, byte> Watched = new();
    private static int _hooked;

    /// <summary>SIGINT and SIGTERM kill the watched processes, then the signal ends this one (its default end left them running).</summary>
    private static PosixSignalRegistration[] _signals = [];

    /// <summary>Kills <paramref name="process"/> and its children should this process end first; returns it.</summary>
    public static Process Watch(Process process)
    {
        if (Interlocked.Exchange(ref _hooked, 1) == 0)
        {
            AppDomain.CurrentDomain.UnhandledException += (_, _) => KillAll();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
            _signals =
                [PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => KillAll()), PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => KillAll())];
        }

        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => Watched.TryRemove(process, out _);
        Watched[process] = 0;
        return process;
    }

    private static void KillAll()
    {
        foreach (var process in Watched.Keys)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                // Already gone, or disposed by its owner.
            }
        }
    }
}
