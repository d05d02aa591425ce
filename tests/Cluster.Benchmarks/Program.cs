using Cluster.Benchmarks;

IBenchScenario[] scenarios =
    [new BatchingScenario(), new EdgeScenario(), new AllocationScenario(), new EmbeddingsScenario(), new PlacementScenario(), new ReliabilityScenario(),
        new SiloKillScenario(), new SoakScenario(), new GenerationScenario(), new GenerationOpenAiScenario(), new PrefixCachingScenario(), new FuzzScenario()];

if (args is [PeerServer.Command, ..])
{
    return await PeerServer.RunAsync(args);
}

if (args is ["--help" or "-h", ..])
{
    Console.WriteLine(BenchOptions.Usage(scenarios));
    return 0;
}

if (!BenchOptions.TryParse(args, out var scenarioName, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(BenchOptions.Usage(scenarios));
    return 2;
}

var scenario = Array.Find(scenarios, s => s.Name == scenarioName);
if (scenario is null)
{
    Console.Error.WriteLine($"Unknown scenario '{scenarioName}'.");
    Console.Error.WriteLine(BenchOptions.Usage(scenarios));
    return 2;
}

await scenario.RunAsync(options, RepositoryRoot.Find());
return 0;
