using Cluster.Contracts.Errors;
using Cluster.Inference.Devices;
using Cluster.Inference.Execution;

namespace Cluster.Inference.Tests.Execution;

public sealed class SimulatedFaultTests
{
    [Fact]
    public void BeforeBatch_Throw_FailsExactlyTheBatchesInTheWindow()
    {
        var fault = new SimulatedFault("sim:flaky:0", new SimulatedFaultSettings { Mode = "throw", AfterBatches = 2, ForBatches = 2 });

        var failedBatches = Enumerable.Range(1, 6).Where(_ => Throws(fault)).ToArray();

        Assert.Equal([3, 4], failedBatches);
    }

    [Fact]
    public void BeforeBatch_SameDeviceAndProbability_FailsTheSameBatchesEveryRun()
    {
        var settings = new SimulatedFaultSettings { Mode = "throw", Probability = 0.3 };

        bool[] Run()
        {
            var fault = new SimulatedFault("sim:flaky:0", settings);
            return [.. Enumerable.Range(0, 200).Select(_ => Throws(fault))];
        }

        var first = Run();
        Assert.Equal(first, Run());
        Assert.InRange(first.Count(f => f), 30, 90);
    }

    [Fact]
    public void Validate_UnknownModeAndBadNumbers_NameTheSetting()
    {
        var problems = new SimulatedFaultSettings { Mode = "explode", Probability = 2 }.Validate("Cluster:Devices:Simulated entry 'x' Fault").ToArray();

        Assert.Equal(
            [
                "Cluster:Devices:Simulated entry 'x' Fault:Mode 'explode' must be 'none', 'throw' or 'hang'.",
                "Cluster:Devices:Simulated entry 'x' Fault needs AfterBatches >= 0, ForBatches >= 0, Probability in 0..1 and HangMilliseconds >= 0.",
            ],
            problems);
    }

    private static bool Throws(SimulatedFault fault)
    {
        try
        {
            fault.BeforeBatch();
            return false;
        }
        catch (DeviceFaultException)
        {
            return true;
        }
    }
}
