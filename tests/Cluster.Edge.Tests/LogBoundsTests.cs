using Cluster.Contracts.Errors;
using Cluster.Contracts.Logging;
using Cluster.Silo.Edge;
using Microsoft.Extensions.Logging;

namespace Cluster.Edge.Tests;

/// <summary>Callers cannot use the log against the silo: what they send is cut short there, and their refusals log at Debug.</summary>
public sealed class LogBoundsTests
{
    [Fact]
    public void Bounded_CutsLongText_AndSaysHowMuchWasCut()
    {
        var text = new string('x', 10_000);

        Assert.Equal("short id", LogText.Bounded("short id"));
        Assert.Equal(new string('x', LogText.MaxLength) + "... (9800 more characters)", LogText.Bounded(text));
    }

    [Fact]
    public void Bounded_NeverSplitsASurrogatePair()
    {
        var text = new string('a', LogText.MaxLength - 1) + "😀" + "tail";

        Assert.StartsWith(new string('a', LogText.MaxLength - 1) + "...", LogText.Bounded(text), StringComparison.Ordinal);
    }

    [Fact]
    public void GrpcRejection_WithAHugeModelName_IsLoggedAtDebugAndCut()
    {
        var logger = new RecordingLogger();
        var errors = new GrpcErrors(logger);

        errors.Translate("ModelInfer", new ModelNotFoundException($"Model '{new string('m', 100_000)}' is not in the repository."));

        var (level, message) = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Debug, level);
        Assert.InRange(message.Length, LogText.MaxLength, LogText.MaxLength + 200);
    }

    private sealed class RecordingLogger : ILogger<GrpcErrors>
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }
}
