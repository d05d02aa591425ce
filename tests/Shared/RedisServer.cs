using System.Diagnostics;
using System.Net.Sockets;

namespace Cluster.Tests.Shared;

/// <summary>
/// A real <c>redis-server</c> process on a free loopback port, its data in a temporary folder written only
/// when it is stopped (so it can be stopped and started again with its data); stopped on dispose.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string _directory;
    private readonly string? _password;
    private Process _process;

    private RedisServer(Process process, int port, string directory, string? password)
    {
        _process = process;
        Port = port;
        _directory = directory;
        _password = password;
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis connection string for it (with its password, when it has one).</summary>
    public string ConnectionString => _password is null ? $"127.0.0.1:{Port}" : $"127.0.0.1:{Port},password={_password}";

    /// <summary>Starts the server (requiring <paramref name="password"/> when given, <c>requirepass</c>) and waits until it accepts connections.</summary>
    public static async Task<RedisServer> StartAsync(string? password = null)
    {
        var port = FreePorts.Take(1)[0];
        var directory = Directory.CreateTempSubdirectory("redis-").FullName;
        var server = new RedisServer(Launch(port, directory, password), port, directory, password);
        await server.WaitUntilListeningAsync();
        return server;
    }

    /// <summary>Stops the server as an outage would, after writing its data to disk (<c>SHUTDOWN SAVE</c>).</summary>
    public async Task StopAsync()
    {
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", Port);
            var commands = (_password is null ? "" : $"AUTH {_password}\r\n") + "SHUTDOWN SAVE\r\n";
            await client.GetStream().WriteAsync(System.Text.Encoding.ASCII.GetBytes(commands));
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }

        _process.Dispose();
    }

    /// <summary>Starts the stopped server again on the same port, with the data it had.</summary>
    public async Task RestartAsync()
    {
        _process = Launch(Port, _directory, _password);
        await WaitUntilListeningAsync();
    }

    private static Process Launch(int port, string directory, string? password)
    {
        string[] arguments =
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                directory];
        var start = new ProcessStartInfo("redis-server", password is null ? arguments : [.. arguments, "--requirepass", password])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed; run the tests with `bash tests/run.sh`, which installs it.", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        Dispose();
        throw new TimeoutException($"redis-server did not listen on port {Port} within 15 s.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // Stopped and not restarted: nothing is running.
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
