using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Cluster.Grains.State;

/// <summary>
/// Flushes a folder's entries (a rename, a new or deleted file) to disk, so that they survive a power
/// loss or a kernel crash. .NET opens no folders, so this calls the C library on Linux and macOS; on
/// Windows, NTFS journals renames and there is nothing to call.
/// </summary>
internal static class DirectorySync
{
    private const int ReadOnly = 0;

    /// <summary>Flushes <paramref name="directory"/>; throws <see cref="IOException"/> naming it when that fails.</summary>
    public static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var handle = Open(directory, ReadOnly);
        if (handle < 0)
        {
            throw Failure("open", directory);
        }

        try
        {
            if (Sync(handle) != 0)
            {
                throw Failure("fsync", directory);
            }
        }
        finally
        {
            _ = Close(handle);
        }
    }

    private static IOException Failure(string call, string directory) =>
        new($"{call} of folder '{directory}' failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Sync(int descriptor);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int descriptor);
}
