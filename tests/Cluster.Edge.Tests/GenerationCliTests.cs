using System.Text.Json;
using Cluster.Cli;
using Cluster.Contracts.Generation;
using static Cluster.Edge.Tests.GenerationStreamTests;

namespace Cluster.Edge.Tests;

/// <summary><c>cluster generate</c> in this process, against the fixture's silo through its gateway and its gRPC edge.</summary>
[Collection(EdgeCollection.Name)]
public sealed class GenerationCliTests(EdgeFixture fixture)
{
    private static readonly GenerationRequest Greedy = new() { Prompt = Prompt, MaxTokens = 8, Temperature = 0 };

    [Fact]
    public async Task Generate_OverGatewayJson_SameAsSdk()
    {
        var expected = await fixture.Cluster.Client.GenerateTextAsync(Model, Greedy);

        var (exit, output, error) = await RunAsync(Gateway(Model, Prompt, "--max-tokens", "8", "--temperature", "0", "--json"));

        Assert.Equal((0, ""), (exit, error));
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(
            (expected.Text, expected.FinishReason, 2, expected.GeneratedTokens),
            (root.GetProperty("text").GetString(), root.GetProperty("finish_reason").GetString(), root.GetProperty("prompt_tokens").GetInt32(),
                root.GetProperty("completion_tokens").GetInt32()));
        Assert.True(root.GetProperty("ttft_ms").GetDouble() > 0);
        Assert.True(root.GetProperty("tokens_per_s").GetDouble() > 0);
    }

    [Fact]
    public async Task Generate_OverGrpc_TextOnStdoutSummaryOnStderr()
    {
        var expected = await fixture.Cluster.Client.GenerateTextAsync(Model, Greedy);

        var (exit, output, error) = await RunAsync(
            "generate", Model, Prompt, "--max-tokens", "8", "--temperature", "0", "--grpc", fixture.Cluster.GrpcAddresses[0], "--api-key",
                EdgeFixture.AdminKey);

        Assert.Equal(0, exit);
        Assert.Equal(expected.Text + Environment.NewLine, output);
        Assert.StartsWith($"finish: {expected.FinishReason}, prompt 2 tokens, generated {expected.GeneratedTokens} tokens, first token ", error,
            StringComparison.Ordinal);
        Assert.EndsWith($" tokens/s{Environment.NewLine}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generate_BadSetting_ExitOneWithFieldNamed()
    {
        var (exit, output, error) = await RunAsync(Gateway(Model, Prompt, "--top-p", "2"));

        Assert.Equal((1, "", $"InvalidInputException: top_p must be above 0 and at most 1, got 2.{Environment.NewLine}"), (exit, output, error));
    }

    [Fact]
    public async Task Generate_MissingPrompt_UsageExitTwo()
    {
        var (exit, _, error) = await RunAsync(Gateway(Model));

        Assert.Equal(
            (2, "Usage: generate <model> \"prompt\" [--max-tokens N] [--temperature t] [--top-p p] [--top-k k] [--seed s] [--stop str] [--version N] " +
                $"[--json]{Environment.NewLine}"), (exit, error));
    }

    [Fact]
    public async Task Generate_NonNumericMaxTokens_UsageExitTwo()
    {
        var (exit, _, error) = await RunAsync(Gateway(Model, Prompt, "--max-tokens", "many"));

        Assert.Equal(2, exit);
        Assert.StartsWith("--max-tokens 'many' is not a valid number.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Top_AfterAGeneration_ShowsTheReplicasEngine()
    {
        await fixture.Cluster.Client.GenerateTextAsync(Model, Greedy with { IgnoreEos = true });

        var (exit, output, error) =
            await RunAsync("top", "--iterations", "1", "--gateway", fixture.Cluster.Gateways[0], "--cluster-id", fixture.Cluster.ClusterId);

        Assert.Equal((0, ""), (exit, error));
        Assert.Matches(
            @"Replica\s+Running\s+Waiting\s+KV cache\s+Tokens in / out\s+Tok/s\s+TTFT p50 / p99 ms\s+ITL p50 / p99 ms\s+Prefix hits\s+Finished\s+Preempted",
                output);
        Assert.Matches(
            @"tiny_gpt:1/0\s+\d+\s+\d+\s+\d+\.\d % of \d+ MiB\s+[1-9]\d* / [1-9]\d*\s+\d+\.\d\s+[\d.]+ / [\d.]+\s+[\d.]+ / [\d.]+\s+(-|\d+\.\d %)\s+.*length " +
                @"[1-9]\d* .*failed \d+\s+\d+", output);
    }

    [Fact]
    public async Task Help_ListsGenerate()
    {
        var (exit, output, _) = await RunAsync("help");

        Assert.Equal(0, exit);
        Assert.Contains("  generate <model> \"prompt\" [--max-tokens N]", output, StringComparison.Ordinal);
    }

    private string[] Gateway(params string[] args) =>
        ["generate", .. args, "--gateway", fixture.Cluster.Gateways[0], "--cluster-id", fixture.Cluster.ClusterId];

    private static async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await ClusterCommandLine.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}
