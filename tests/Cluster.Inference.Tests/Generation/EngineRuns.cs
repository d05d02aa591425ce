using Cluster.Inference.Generation;

namespace Cluster.Inference.Tests.Generation;

/// <summary>Drives an engine step by step in tests and collects what its streams said.</summary>
internal static class EngineRuns
{
    /// <summary>Steps until nothing runs; bounded so that a scheduling bug fails the test instead of hanging it.</summary>
    public static async Task RunToEnd(GenerationEngine engine)
    {
        for (var step = 0; step < 5000 && await engine.StepAsync(); step++)
        {
        }

        Assert.Equal(0, engine.RunningCount);
    }

    /// <summary>Every update of a finished stream.</summary>
    public static async Task<List<GenerationUpdate>> Updates(GenerationStream stream)
    {
        var updates = new List<GenerationUpdate>();
        await foreach (var update in stream.ReadAllAsync())
        {
            updates.Add(update);
        }

        return updates;
    }

    /// <summary>The tokens a finished stream generated.</summary>
    public static async Task<List<int>> Tokens(GenerationStream stream) =>
        [.. (await Updates(stream)).Where(u => u.TokenId >= 0).Select(u => u.TokenId)];
}
