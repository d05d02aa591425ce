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
    [InlineData("instance_count=65", "Setting 'instance_count' needs a whole number from 1 to 64, not '65'.")]
    [InlineData("prefix_caching=yes", "Setting 'prefix_caching' needs true or false, not 'yes'.")]
    [InlineData("max_running_sequences=0", "Setting 'max_running_sequences' needs a whole number of at least 1, not '0'.")]
    [InlineData("variant=int4", "Setting 'variant' needs one of fp32, fp16, int8, not 'int4'.")]
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

    [Fact]
    public void Problem_GenerationSettingOnAnInferenceModel_NamesTheSetting()
    {
        Assert.Equal(
            "Experiment on model 'tiny': arm 'b' max_running_sequences is a generation setting, and the model does not generate text.",
            ExperimentRules.Problem(Define(("a", 1, 50, new()), ("b", 1, 50, new ArmOverrides().With("max_running_sequences=2"))), Model));
    }

    [Fact]
    public void Problem_InstanceCountOnAGenerationModel_SaysItDoesNotApply()
    {
        var generating = Model with { Config = Model.Config with { MaxBatchSize = 0, Generation = new GenerationConfig() } };

        Assert.Equal(
            "Experiment on model 'tiny': arm 'b' instance_count does not apply to a generation model: its decoder runs one session per device.",
            ExperimentRules.Problem(Define(("a", 1, 50, new()), ("b", 1, 50, new ArmOverrides { InstanceCount = 2 })), generating));
    }

    [Fact]
    public void With_GenerationSettings_ApplyToTheGenerationConfigAndNeedSessionsOfTheirOwn()
    {
        var overrides = new ArmOverrides().With("max_running_sequences=2").With("max_step_tokens=32").With("max_waiting=5").With("prefix_caching=false");
        var config = overrides.ApplyTo(Model.Config with { Generation = new GenerationConfig() });

        var generation = config.Generation!;
        Assert.Equal((2, 32, 5, false), (generation.MaxRunningSequences, generation.MaxStepTokens, generation.MaxWaiting, generation.PrefixCaching));
        Assert.Equal("max_running_sequences=2 max_step_tokens=32 max_waiting=5 prefix_caching=false", overrides.ToString());
        Assert.True(overrides.NeedsOwnSessions);
        Assert.False(new ArmOverrides { MaxBatchSize = 2 }.NeedsOwnSessions);
        Assert.Equal(3, new ArmOverrides().With("instance_count=3").ApplyTo(Model.Config).InstanceCount);
    }

    [Fact]
    public void Variant_NeedsSessionsOfItsOwn_AndDoesNotApplyToAGenerationModel()
    {
        var overrides = new ArmOverrides().With("variant=int8");
        var generating = Model with { Config = Model.Config with { MaxBatchSize = 0, Generation = new GenerationConfig() } };

        Assert.Equal(("int8", "variant=int8", true), (overrides.Variant, overrides.ToString(), overrides.NeedsOwnSessions));
        Assert.Null(ExperimentRules.Problem(Define(("a", 1, 50, new()), ("b", 1, 50, overrides)), Model));
        Assert.Equal(
            "Experiment on model 'tiny': arm 'b' variant does not apply to a generation or text-embedding model: it serves its one model.onnx.",
            ExperimentRules.Problem(Define(("a", 1, 50, new()), ("b", 1, 50, overrides)), generating));
    }

    private static Experiment Define(params (string Name, long Version, int Percent, ArmOverrides Overrides)[] arms) => new()
    {
        Id = "",
        Model = "tiny",
        Arms = [.. arms.Select(a => new ExperimentArm { Name = a.Name, Version = a.Version, Percent = a.Percent, Overrides = a.Overrides })],
    };

    private static ModelVersionDescriptor Version(long number) => new() { Version = number, Inputs = [], Outputs = [] };
}
