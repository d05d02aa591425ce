using Cluster.Contracts.Experiments;
using Cluster.Contracts.Models;

namespace Cluster.Inference.Tests.Experiments;

public sealed class ExperimentRulesTests
{
    private static readonly ModelDescriptor Model = new()
    {
        Name = "tiny",
        Config = new ModelConfig { MaxBatchSize = 8, VersionPolicy = VersionPolicy.All() },
        Versions = [Version(2), Version(1)],
    };

    [Fact]
    public void Problem_ValidDefinition_None()
    {
        Assert.Null(ExperimentRules.Problem(Define(("a", 1, 50, new ArmOverrides()), ("b", 2, 50, new ArmOverrides { MaxBatchSize = 2 })), Model));
    }

    [Fact]
    public void Problem_SharesNotSummingTo100_NamesThePercents()
    {
        Assert.Equal("Experiment on model 'tiny': arm percents sum to 90; they must sum to 100.",
            ExperimentRules.Problem(Define(("a", 1, 50, new()), ("b", 1, 40, new())), Model));
    }

    [Fact]
    public void Problem_UnknownVersion_NamesTheArmAndTheServedVersions()
    {
        Assert.Equal("Experiment on model 'tiny': arm 'b' version 7 is not served; served versions: 2, 1.",
            ExperimentRules.Problem(Define(("a", 1, 50, new()), ("b", 7, 50, new())), Model));
    }

    [Fact]
    public void Problem_DuplicateArm_NamesIt()
    {
        Assert.Equal("Experiment on model 'tiny': arm name 'a' is used twice.",
            ExperimentRules.Problem(Define(("a", 1, 50, new()), ("a", 2, 50, new())), Model));
    }

    [Fact]
    public void Problem_BatchLargerThanTheModels_NamesTheSetting()
    {
        Assert.Equal(
            "Experiment on model 'tiny': arm 'b' max_batch_size 16 must be between 1 and the model's own max_batch_size (8).",
            ExperimentRules.Problem(Define(("a", 1, 50, new()), ("b", 1, 50, new ArmOverrides { MaxBatchSize = 16 })), Model));
    }

    [Fact]
    public void Problem_OneArm_AsksForTwo()
    {
        Assert.Contains("needs at least two arms", ExperimentRules.Problem(Define(("a", 1, 100, new())), Model), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("batch_size=2", "Setting 'batch_size' is not one an arm can change")]
    [InlineData("max_batch_size=two", "Setting 'max_batch_size' needs a whole number of at least 1, not 'two'.")]
    [InlineData("device_kinds=", "Setting 'device_kinds' needs one or more device kinds")]
    public void With_BadSetting_ThrowsNamingIt(string setting, string message)
    {
        var error = Assert.Throws<FormatException>(() => new ArmOverrides().With(setting));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_Settings_ApplyToTheConfig()
    {
        var overrides = new ArmOverrides().With("max_batch_size=2").With("max_queue_delay_microseconds=500").With("device_kinds=sim:slow,cpu");
        var config = overrides.ApplyTo(Model.Config);

        Assert.Equal(2, config.MaxBatchSize);
        Assert.Equal(500, config.DynamicBatching.MaxQueueDelayMicroseconds);
        Assert.Equal(["sim:slow", "cpu"], config.DeviceKinds);
        Assert.Equal("max_batch_size=2 max_queue_delay_microseconds=500 device_kinds=sim:slow,cpu", overrides.ToString());
    }

    private static Experiment Define(params (string Name, long Version, int Percent, ArmOverrides Overrides)[] arms) => new()
    {
        Id = "",
        Model = "tiny",
        Arms = [.. arms.Select(a => new ExperimentArm { Name = a.Name, Version = a.Version, Percent = a.Percent, Overrides = a.Overrides })],
    };

    private static ModelVersionDescriptor Version(long number) => new() { Version = number, Inputs = [], Outputs = [] };
}
