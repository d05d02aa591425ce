using Cluster.Contracts.Errors;
using Cluster.Contracts.Experiments;
using Cluster.Contracts.Tensors;
using Cluster.Grains.Tests.Admin;
using Cluster.Inference.Onnx;

namespace Cluster.Grains.Tests.Experiments;

/// <summary>
/// An arm that serves another variant of its version: with FP16 and INT8 files beside the classifier's FP32 one, the
/// model's CPU replica serves INT8 (the variant that suits a CPU) while an arm with <c>variant=fp32</c> loads the FP32 file
/// in sessions of its own; an arm asking for a variant its version lacks is refused when the experiment starts.
/// </summary>
public sealed class VariantArmTests
{
    private const string Model = "tiny_classifier";

    [Fact]
    public async Task VariantArm_LoadsTheVariantItAsksFor_AndAVariantTheVersionLacksIsRefused()
    {
        await using var cluster = await InProcessCluster.StartAsync(["variants"], prepareRepository: DemoModels.WriteVariants);

        var (exit, output, error) = await cluster.RunCliAsync(
            "experiment", "start", Model, "--arm", "cpu=1:50", "--arm", "exact=1:50", "--set", "exact.variant=fp32");
        Assert.True(exit == 0, error);
        Assert.Contains("variant=fp32", output, StringComparison.Ordinal);
        var experiment = (await cluster.Connection.Admin.GetExperimentAsync(Model)).Experiment;

        var features = TensorData.FromFloat32("features", [1f, 2f, 3f, 4f], 1, 4);
        foreach (var arm in new[] { "cpu", "exact" })
        {
            var answer = await cluster.Client.InferAsync(Model, [features], options: new() { AssignmentKey = ExperimentKeys.For(experiment, arm) });
            Assert.Equal(experiment.ReplicaArm(arm), answer.Arm);
        }

        var variants = (await cluster.Client.GetDeviceStatusAsync("variants/cpu:0")).Variants;
        Assert.Equal("int8", variants[$"{Model}:1"]);
        Assert.Equal("fp32", variants[$"{Model}:1@{experiment.ReplicaArm("exact")}"]);
        Assert.DoesNotContain($"{Model}:1@{experiment.ReplicaArm("cpu")}", variants.Keys);

        // The committed two_in_two_out model has only its FP32 file.
        var refused = await Assert.ThrowsAsync<OperationRefusedException>(() => cluster.Connection.Admin.StartExperimentAsync(new Experiment
        {
            Id = "",
            Model = "two_in_two_out",
            Arms =
            [
                new ExperimentArm { Name = "a", Version = 1, Percent = 50 },
                new ExperimentArm { Name = "b", Version = 1, Percent = 50, Overrides = new ArmOverrides().With("variant=int8") },
            ],
        }));
        Assert.Contains("Arm 'b' asks for variant int8", refused.Message, StringComparison.Ordinal);
    }
}
