using System.Diagnostics;
using System.Text;
using Cluster.Tests.Shared;

namespace Cluster.Silo.Tests;

/// <summary>A built executable of this repository run with <c>dotnet</c>, its output captured line by line.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private ChildProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Everything printed so far (stdout and stderr).</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>dotnet {project output}/{assembly}.dll args</c> in the repository root.</summary>
    public static ChildProcess Start(string projectDirectory, string assembly, IEnumerable<string> args, IReadOnlyDictionary<string,
        string>? environment = null)
    {
        var dll = Path.Combine(RepositoryPaths.Root, projectDirectory, "bin", RepositoryPaths.Configuration, "net10.0", assembly + ".dll");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepositoryPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return Start(start);
    }

    /// <summary>Starts any command with its output captured.</summary>
    public static ChildProcess Start(ProcessStartInfo start) => new(OrphanGuard.Watch(Process.Start(start)!));

    /// <summary>Runs the CLI to completion and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunCliAsync(params string[] args)
    {
        using var cli = Start(Path.Combine("client", "Cluster.Cli"), "cluster", args);
        await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (cli.ExitCode, cli.Output);
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; fails with the output so far if it doesn't in time or the process exits.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Waited for '{text}' (exited: {_process.HasExited}); output:\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits for exit; false if it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Sends SIGTERM, as a container runtime or Ctrl+C would.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _output.AppendLine(line);
        }
    }
}
