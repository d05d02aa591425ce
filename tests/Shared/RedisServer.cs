using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace Cluster.Tests.Shared;

/// <summary>
/// A real <c>redis-server</c> process on a free loopback port, its data in a temporary folder written only
/// when it is stopped (so it can be stopped and started again with its data); stopped on dispose. With
/// <see cref="RedisTlsFiles"/> it accepts TLS connections only (<c>--tls-port</c>, <c>--port 0</c>).
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string _directory;
    private readonly string? _password;
    private readonly RedisTlsFiles? _tls;
    private Process _process;

    private RedisServer(Process process, int port, string directory, string? password, RedisTlsFiles? tls)
    {
        _process = process;
        Port = port;
        _directory = directory;
        _password = password;
        _tls = tls;
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis connection string for it (with its password, when it has one, and <c>ssl=true</c> with TLS).</summary>
    public string ConnectionString =>
        $"127.0.0.1:{Port}" + (_password is null ? "" : $",password={_password}") + (_tls is null ? "" : ",ssl=true");

    /// <summary>
    /// Starts the server (requiring <paramref name="password"/> when given, <c>requirepass</c>; over TLS only with
    /// <paramref name="tls"/>, clients presenting no certificate) and waits until it accepts connections.
    /// </summary>
    public static async Task<RedisServer> StartAsync(string? password = null, RedisTlsFiles? tls = null)
    {
        var port = FreePorts.Take(1)[0];
        var directory = Directory.CreateTempSubdirectory("redis-").FullName;
        var server = new RedisServer(Launch(port, directory, password, tls), port, directory, password, tls);
        await server.WaitUntilListeningAsync();
        return server;
    }

    /// <summary>Stops the server as an outage would, after writing its data to disk (<c>SHUTDOWN SAVE</c>).</summary>
    public async Task StopAsync()
    {
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", Port);
            await using var stream = await CommandStreamAsync(client);
            var commands = (_password is null ? "" : $"AUTH {_password}\r\n") + "SHUTDOWN SAVE\r\n";
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(commands));
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }

        _process.Dispose();
    }

    /// <summary>Starts the stopped server again on the same port, with the data it had.</summary>
    public async Task RestartAsync()
    {
        _process = Launch(Port, _directory, _password, _tls);
        await WaitUntilListeningAsync();
    }

    private static Process Launch(int port, string directory, string? password, RedisTlsFiles? tls)
    {
        var number = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] listen = tls is null
            ? ["--port", number]
            : ["--port", "0", "--tls-port", number, "--tls-cert-file", tls.CertificatePath, "--tls-key-file", tls.KeyPath,
                "--tls-ca-cert-file", tls.CaCertificatePath, "--tls-auth-clients", "no"];
        string[] arguments = [.. listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory];
        var start = new ProcessStartInfo("redis-server", password is null ? arguments : [.. arguments, "--requirepass", password])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = OrphanGuard.Watch(Process.Start(start)!);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed; run the tests with `bash tests/run.sh`, which installs it.", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>The connection's stream, over TLS when the server requires it (its certificate checked against its CA).</summary>
    private async Task<Stream> CommandStreamAsync(TcpClient client)
    {
        if (_tls is null)
        {
            return client.GetStream();
        }

        var ssl = new SslStream(client.GetStream());
        var trust = new X509Certificate2Collection();
        trust.ImportFromPemFile(_tls.CaCertificatePath);
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(trust);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", CertificateChainPolicy = policy });
        return ssl;
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

/// <summary>The PEM files of a TLS Redis: its certificate and key, and the CA its clients' certificates would chain to.</summary>
public sealed record RedisTlsFiles(string CertificatePath, string KeyPath, string CaCertificatePath);
