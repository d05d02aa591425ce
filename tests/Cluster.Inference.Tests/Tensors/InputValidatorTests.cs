using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;
using Cluster.Inference.Tensors;

namespace Cluster.Inference.Tests.Tensors;

public sealed class InputValidatorTests
{
    private static readonly ModelConfig Config = new() { MaxBatchSize = 4 };

    private static readonly ModelVersionDescriptor Version = new()
    {
        Version = 1,
        Inputs =
        [
            new TensorSpec { Name = "a", ElementType = TensorElementType.Float32, Shape = [-1, 2] },
            new TensorSpec { Name = "b", ElementType = TensorElementType.Int64, Shape = [-1, 2] },
        ],
        Outputs =
        [
            new TensorSpec { Name = "x", ElementType = TensorElementType.Float32, Shape = [-1, 2] },
            new TensorSpec { Name = "y", ElementType = TensorElementType.Float32, Shape = [-1, 2] },
        ],
    };

    [Fact]
    public void Validate_GoodRequestAskingForNoOutputs_GetsNullForAllOfThem() =>
        Assert.Null(Validate(A(1), B(1)).Outputs);

    [Fact]
    public void Validate_InputsInAnyOrder_ReturnedInModelOrder()
    {
        var (a, b) = (A(1), B(1));
        Assert.Equal([a, b], Validate(b, a).Inputs);
    }

    [Fact]
    public void Validate_RequestedOutputs_ReturnsThemInModelOrder() =>
        Assert.Equal(["x", "y"], InputValidator.Validate("m", Config, Version, new InferenceRequest { Inputs = [A(1), B(1)], RequestedOutputs = ["y", "x"] })
            .Outputs!);

    [Fact]
    public void Validate_MissingInput_NamesItWithExpectedSpec() =>
        AssertError("Input 'b' of model 'm' version 1 is missing (expected b INT64 [-1,2]).", A(1));

    [Fact]
    public void Validate_UnknownInput_ListsTheModelsInputs() =>
        AssertError("Input 'c' is not an input of model 'm' version 1; its inputs are: a FP32 [-1,2], b INT64 [-1,2].", A(1), B(1),
            TensorData.FromFloat32("c", [1f], 1));

    [Fact]
    public void Validate_WrongType_NamesExpectedAndGiven() =>
        AssertError("Input 'b' of model 'm' version 1 has datatype FP32; expected INT64.", A(1), TensorData.FromFloat32("b", [1f, 2f], 1, 2));

    [Fact]
    public void Validate_WrongShape_NamesExpectedAndGiven() =>
        AssertError("Input 'a' of model 'm' version 1 has shape [1,3]; expected [-1,2] (-1 = any size).", TensorData.FromFloat32("a", [1f, 2f, 3f], 1, 3),
            B(1));

    [Fact]
    public void Validate_DataShorterThanShape_Rejected() =>
        AssertError("Input 'a' of model 'm' version 1 has 4 bytes of data; shape [1,2] of FP32 needs 8.",
            new TensorData { Name = "a", ElementType = TensorElementType.Float32, Shape = [1, 2], Data = new byte[4] }, B(1));

    [Fact]
    public void Validate_BatchOverMax_NamesTheLimit() =>
        AssertError("Input 'a' of model 'm' version 1 has batch size 5, over the model's max_batch_size 4.", A(5), B(5));

    [Fact]
    public void Validate_InputsDisagreeOnBatch_Rejected() =>
        AssertError("Input 'b' of model 'm' version 1 has batch size 2 but other inputs have 1; all inputs must share the first dimension.", A(1), B(2));

    [Fact]
    public void Validate_UnknownRequestedOutput_ListsOutputs()
    {
        var error = Assert.Throws<InvalidInputException>(() =>
            InputValidator.Validate("m", Config, Version, new InferenceRequest { Inputs = [A(1), B(1)], RequestedOutputs = ["z"] }));
        Assert.Equal("Requested output 'z' is not an output of model 'm' version 1; its outputs are: x FP32 [-1,2], y FP32 [-1,2].", error.Message);
    }

    private static TensorData A(int batch) => TensorData.FromFloat32("a", new float[batch * 2], batch, 2);

    private static TensorData B(int batch) => TensorData.FromInt64("b", new long[batch * 2], batch, 2);

    private static ValidatedRequest Validate(params TensorData[] inputs) =>
        InputValidator.Validate("m", Config, Version, new InferenceRequest { Inputs = inputs });

    private static void AssertError(string expected, params TensorData[] inputs) =>
        Assert.Equal(expected, Assert.Throws<InvalidInputException>(() => Validate(inputs)).Message);
}
