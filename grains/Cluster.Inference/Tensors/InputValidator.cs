using Cluster.Contracts.Errors;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Inference.Tensors;

/// <summary>
/// Checks a request against the model version's declared tensors before any work is queued:
/// names, element types, shapes, byte sizes, batch size and requested outputs. Every error names
/// the model, the tensor, what was expected and what was given.
/// </summary>
public static class InputValidator
{
    /// <summary>Validates the request; returns the output names to produce, in the model's order.</summary>
    public static string[] Validate(string model, ModelConfig config, ModelVersionDescriptor version, InferenceRequest request)
    {
        var where = $"model '{model}' version {version.Version}";
        foreach (var input in request.Inputs)
        {
            if (Array.Find(version.Inputs, s => s.Name == input.Name) is null)
            {
                throw new InvalidInputException($"Input '{input.Name}' is not an input of {where}; its inputs are: {Names(version.Inputs)}.");
            }
        }

        long? batch = null;
        foreach (var spec in version.Inputs)
        {
            var matches = Array.FindAll(request.Inputs, i => i.Name == spec.Name);
            if (matches.Length != 1)
            {
                throw new InvalidInputException(matches.Length == 0
                    ? $"Input '{spec.Name}' of {where} is missing (expected {spec})."
                    : $"Input '{spec.Name}' of {where} is given {matches.Length} times.");
            }

            var input = matches[0];
            CheckTensor(where, spec, input);
            if (config.MaxBatchSize > 0)
            {
                var size = input.Shape[0];
                if (batch is not null && batch != size)
                {
                    throw new InvalidInputException($"Input '{spec.Name}' of {where} has batch size {size} but other inputs have {batch}; all inputs must share the first dimension.");
                }

                batch = size;
                if (size > config.MaxBatchSize)
                {
                    throw new InvalidInputException($"Input '{spec.Name}' of {where} has batch size {size}, over the model's max_batch_size {config.MaxBatchSize}.");
                }
            }
        }

        return SelectOutputs(where, version, request.RequestedOutputs);
    }

    private static void CheckTensor(string where, TensorSpec spec, TensorData input)
    {
        if (input.ElementType != spec.ElementType)
        {
            throw new InvalidInputException($"Input '{spec.Name}' of {where} has datatype {input.ElementType.ToProtocolName()}; expected {spec.ElementType.ToProtocolName()}.");
        }

        if (!TensorShape.Fits(spec.Shape, input.Shape) || Array.Exists(input.Shape, d => d < 0))
        {
            throw new InvalidInputException($"Input '{spec.Name}' of {where} has shape {TensorShape.Format(input.Shape)}; expected {TensorShape.Format(spec.Shape)} (-1 = any size).");
        }

        var count = TensorShape.ElementCount(input.Shape);
        if (spec.ElementType == TensorElementType.String)
        {
            try
            {
                StringTensorCodec.Decode(spec.Name, input.Data, checked((int)count));
            }
            catch (FormatException e)
            {
                throw new InvalidInputException($"Input '{spec.Name}' of {where}: {e.Message}");
            }
        }
        else if (input.Data.LongLength != count * spec.ElementType.SizeOf())
        {
            throw new InvalidInputException($"Input '{spec.Name}' of {where} has {input.Data.LongLength} bytes of data; shape {TensorShape.Format(input.Shape)} of {spec.ElementType.ToProtocolName()} needs {count * spec.ElementType.SizeOf()}.");
        }
    }

    private static string[] SelectOutputs(string where, ModelVersionDescriptor version, string[] requested)
    {
        if (requested.Length == 0)
        {
            return Array.ConvertAll(version.Outputs, o => o.Name);
        }

        foreach (var name in requested)
        {
            if (Array.Find(version.Outputs, o => o.Name == name) is null)
            {
                throw new InvalidInputException($"Requested output '{name}' is not an output of {where}; its outputs are: {Names(version.Outputs)}.");
            }
        }

        return Array.FindAll(Array.ConvertAll(version.Outputs, o => o.Name), requested.Contains);
    }

    private static string Names(TensorSpec[] specs) => string.Join(", ", specs.Select(s => s.ToString()));
}
