using System.Globalization;
using Cluster.Tests.Shared;

namespace Cluster.Silo.Tests;

/// <summary>The console's <c>--connect-timeout</c> (and <c>CLUSTER_CONNECT_TIMEOUT</c>): a bad value is a usage error naming where it came from.</summary>
public sealed class ConsoleConnectTimeoutTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("301")]
    [InlineData("soon")]
    [InlineData("NaN")]
    public async Task BadOption_ExitsWithAUsageError_NamingTheOptionAndItsBounds(string value)
    {
        var (exit, output) = await ChildProcess.RunCliAsync("status", "--connect-timeout", value);

        Assert.True(exit == 2, output);
        Assert.Contains($"--connect-timeout '{value}' must be a number of seconds above 0 and at most 300.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadVariable_ExitsWithAUsageError_NamingTheVariable()
    {
        var environment = new Dictionary<string, string> { ["CLUSTER_CONNECT_TIMEOUT"] = "0" };
        using var cli = ChildProcess.Start(Path.Combine("client", "Cluster.Cli"), "cluster", ["status"], environment);
        await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(cli.ExitCode == 2, cli.Output);
        Assert.Contains("CLUSTER_CONNECT_TIMEOUT '0' must be a number of seconds above 0 and at most 300.", cli.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GoodOption_IsAccepted_AndANoGatewayIsAConnectionFailure()
    {
        var gateway = "127.0.0.1:" + FreePorts.Take(1)[0].ToString(CultureInfo.InvariantCulture);

        var (exit, output) = await ChildProcess.RunCliAsync("status", "--connect-timeout", "1.5", "--gateway", gateway);

        Assert.True(exit == 3, output);
        Assert.Contains($"Cannot connect to the cluster (gateway {gateway})", output, StringComparison.Ordinal);
    }
}
