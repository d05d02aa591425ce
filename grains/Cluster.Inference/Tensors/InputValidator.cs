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
    /// <summary>
    /// Validates the request; returns its inputs in the model's order and the outputs it asked for, in the model's order (null when it
    /// asked for none, which means all of them).
    /// </summary>
    public static ValidatedRequest Validate(string model, ModelConfig config, ModelVersionDescriptor version, InferenceRequest request)
    {
        foreach (var input in request.Inputs)
        {
            if (IndexOf(version.Inputs, input.Name) < 0)
            {
                throw new InvalidInputException($"Input '{input.Name}' is not an input of {Where(model, version)}; its inputs are: {Names(version.Inputs)}.");
            }
        }

        // Inputs given once each in the model's order (as most clients send them) are kept in their own array.
        var ordered = InModelOrder(version, request.Inputs) ? request.Inputs : new TensorData[version.Inputs.Length];
        long? batch = null;
        for (var i = 0; i < ordered.Length; i++)
        {
            var spec = version.Inputs[i];
            var given = 0;
            foreach (var input in request.Inputs)
            {
                if (input.Name == spec.Name)
                {
                    ordered[i] = input;
                    given++;
                }
            }

            if (given != 1)
            {
                throw new InvalidInputException(given == 0
                    ? $"Input '{spec.Name}' of {Where(model, version)} is missing (expected {spec})."
                    : $"Input '{spec.Name}' of {Where(model, version)} is given {given} times.");
            }

            CheckTensor(model, version, spec, ordered[i]);
            if (config.MaxBatchSize > 0)
            {
                var size = ordered[i].Shape[0];
                if (batch is not null && batch != size)
                {
                    throw new InvalidInputException($"Input '{spec.Name}' of {Where(model, version)} has batch size {size} but other inputs have {batch}; " +
                        "all inputs must share the first dimension.");
                }

                batch = size;
                if (size > config.MaxBatchSize)
                {
                    throw new InvalidInputException($"Input '{spec.Name}' of {Where(model, version)} has batch size {size}, over the model's " +
                        $"max_batch_size {config.MaxBatchSize}.");
                }
            }
        }

        return new ValidatedRequest(ordered, SelectOutputs(model, version, request.RequestedOutputs));
    }

    private static void CheckTensor(string model, ModelVersionDescriptor version, TensorSpec spec, TensorData input)
    {
        if (input.ElementType != spec.ElementType)
        {
            throw new InvalidInputException($"Input '{spec.Name}' of {Where(model, version)} has datatype {input.ElementType.ToProtocolName()}; " +
                $"expected {spec.ElementType.ToProtocolName()}.");
        }

        if (!TensorShape.Fits(spec.Shape, input.Shape) || Array.Exists(input.Shape, d => d < 0))
        {
            throw new InvalidInputException($"Input '{spec.Name}' of {Where(model, version)} has shape {TensorShape.Format(input.Shape)}; " +
                $"expected {TensorShape.Format(spec.Shape)} (-1 = any size).");
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
                throw new InvalidInputException($"Input '{spec.Name}' of {Where(model, version)}: {e.Message}");
            }
        }
        else if (input.Data.LongLength != count * spec.ElementType.SizeOf())
        {
            throw new InvalidInputException($"Input '{spec.Name}' of {Where(model, version)} has {input.Data.LongLength} bytes of data; " +
                $"shape {TensorShape.Format(input.Shape)} of {spec.ElementType.ToProtocolName()} needs {count * spec.ElementType.SizeOf()}.");
        }
    }

    private static string[]? SelectOutputs(string model, ModelVersionDescriptor version, string[] requested)
    {
        if (requested.Length == 0)
        {
            return null;
        }

        foreach (var name in requested)
        {
            if (IndexOf(version.Outputs, name) < 0)
            {
                throw new InvalidInputException(
                    $"Requested output '{name}' is not an output of {Where(model, version)}; its outputs are: {Names(version.Outputs)}.");
            }
        }

        return Array.FindAll(Array.ConvertAll(version.Outputs, o => o.Name), requested.Contains);
    }

    private static bool InModelOrder(ModelVersionDescriptor version, TensorData[] inputs)
    {
        if (inputs.Length != version.Inputs.Length)
        {
            return false;
        }

        for (var i = 0; i < inputs.Length; i++)
        {
            if (inputs[i].Name != version.Inputs[i].Name)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>How an error names the model version, made only when there is an error to report.</summary>
    private static string Where(string model, ModelVersionDescriptor version) => $"model '{model}' version {version.Version}";

    private static int IndexOf(TensorSpec[] specs, string name)
    {
        for (var i = 0; i < specs.Length; i++)
        {
            if (specs[i].Name == name)
            {
                return i;
            }
        }

        return -1;
    }

    private static string Names(TensorSpec[] specs) => string.Join(", ", specs.Select(s => s.ToString()));
}

/// <summary>A request that passed validation: its inputs in the model's order, and the outputs to return (null: all of them).</summary>
public readonly record struct ValidatedRequest(TensorData[] Inputs, string[]? Outputs);
