using System.Text.Json;
using System.Text.Json.Nodes;
using Cluster.Client.Protocol;
using Cluster.Client.Tensors;
using Cluster.Contracts.Errors;
using Cluster.Contracts.Tensors;
using Google.Protobuf;

namespace Cluster.Silo.Edge;

/// <summary>
/// The REST (JSON) forms of infer requests and responses, translated to and from the gRPC messages so
/// both protocols share one path. JSON tensor data is written into raw little-endian bytes.
/// </summary>
public static class RestTensors
{
    /// <summary>Builds the protocol request from a JSON body; errors name the field.</summary>
    public static ModelInferRequest ReadRequest(string model, string version, JsonElement body, long maxElements)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInputException("The request body must be a JSON object with \"inputs\".");
        }

        var request = new ModelInferRequest { ModelName = model, ModelVersion = version };
        if (body.TryGetProperty("id", out var id))
        {
            request.Id = id.ValueKind == JsonValueKind.String ? id.GetString()! : throw new InvalidInputException("\"id\" must be a string.");
        }

        if (body.TryGetProperty("parameters", out var parameters))
        {
            foreach (var (name, parameter) in ReadParameters("parameters", parameters))
            {
                request.Parameters[name] = parameter;
            }
        }

        if (!body.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidInputException("\"inputs\" is required and must be an array.");
        }

        foreach (var input in inputs.EnumerateArray())
        {
            var (tensor, raw) = ReadInput(model, input, maxElements);
            request.Inputs.Add(tensor);
            request.RawInputContents.Add(raw);
        }

        if (body.TryGetProperty("outputs", out var outputs))
        {
            if (outputs.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidInputException("\"outputs\" must be an array of {\"name\": ...}.");
            }

            foreach (var output in outputs.EnumerateArray())
            {
                request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = Text(output, "name", "outputs[].name") });
            }
        }

        return request;
    }

    /// <summary>The JSON form of a protocol response whose outputs are raw.</summary>
    public static JsonObject WriteResponse(ModelInferResponse response)
    {
        var outputs = new JsonArray();
        for (var i = 0; i < response.Outputs.Count; i++)
        {
            var output = response.Outputs[i];
            var tensor = new TensorData
            {
                Name = output.Name,
                ElementType = TensorElementTypes.FromProtocolName(output.Datatype),
                Shape = [.. output.Shape],
                Data = response.RawOutputContents[i].ToByteArray(),
            };
            outputs.Add(new JsonObject
            {
                ["name"] = output.Name,
                ["datatype"] = output.Datatype,
                ["shape"] = new JsonArray([.. output.Shape.Select(d => JsonValue.Create(d))]),
                ["data"] = ElementCodecs.For(tensor.ElementType)!.WriteJson(tensor),
            });
        }

        var answer = new JsonObject { ["model_name"] = response.ModelName, ["model_version"] = response.ModelVersion, ["id"] = response.Id,
            ["outputs"] = outputs };
        if (response.Parameters.TryGetValue(InferRequestRunner.ExperimentArmParameter, out var arm))
        {
            answer["parameters"] = new JsonObject { [InferRequestRunner.ExperimentArmParameter] = arm.StringParam };
        }

        return answer;
    }

    private static (ModelInferRequest.Types.InferInputTensor Tensor, ByteString Raw) ReadInput(string model, JsonElement input, long maxElements)
    {
        var name = Text(input, "name", "inputs[].name");
        var where = $"Input '{name}' of model '{model}'";
        var datatype = Text(input, "datatype", $"inputs[{name}].datatype");
        var type = TensorElementTypes.FromProtocolName(datatype);
        if (type == TensorElementType.Unknown)
        {
            throw new InvalidInputException($"{where}: datatype '{datatype}' is not an Open Inference Protocol datatype.");
        }

        var tensor = new ModelInferRequest.Types.InferInputTensor { Name = name, Datatype = datatype };
        if (!input.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidInputException($"{where}: \"shape\" is required and must be an array of dimensions.");
        }

        long count = 1;
        foreach (var dimension in shape.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt64(out var d) || d < 0 || (d > 0 && count > maxElements / d))
            {
                throw new InvalidInputException($"{where}: shape {shape.GetRawText()} has a bad dimension or claims more than the limit of {maxElements} " +
                    "elements per tensor.");
            }

            tensor.Shape.Add(d);
            count *= d;
        }

        if (!input.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidInputException($"{where}: \"data\" is required and must be an array.");
        }

        var values = new List<JsonElement>();
        Flatten(data, values, count, where);
        if (values.Count != count)
        {
            throw new InvalidInputException($"{where}: \"data\" has {values.Count} values; shape {shape.GetRawText()} needs {count}.");
        }

        return (tensor, UnsafeByteOperations.UnsafeWrap(Encode(where, type, values)));
    }

    private static void Flatten(JsonElement data, List<JsonElement> values, long limit, string where)
    {
        foreach (var item in data.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                Flatten(item, values, limit, where);
            }
            else if (values.Count >= limit)
            {
                throw new InvalidInputException($"{where}: \"data\" has more values than its shape holds ({limit}).");
            }
            else
            {
                values.Add(item);
            }
        }
    }

    private static byte[] Encode(string where, TensorElementType type, List<JsonElement> values)
    {
        try
        {
            return ElementCodecs.For(type)!.ReadJson(values);
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new InvalidInputException($"{where}: \"data\" holds a value that is not {type.ToProtocolName()}.");
        }
    }

    private static IEnumerable<(string Name, InferParameter Value)> ReadParameters(string field, JsonElement parameters)
    {
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInputException($"\"{field}\" must be a JSON object.");
        }

        foreach (var property in parameters.EnumerateObject())
        {
            var v = property.Value;
            yield return (property.Name, v.ValueKind switch
            {
                JsonValueKind.True or JsonValueKind.False => new InferParameter { BoolParam = v.GetBoolean() },
                JsonValueKind.Number when v.TryGetInt64(out var l) => new InferParameter { Int64Param = l },
                JsonValueKind.Number => new InferParameter { DoubleParam = v.GetDouble() },
                JsonValueKind.String => new InferParameter { StringParam = v.GetString() },
                _ => throw new InvalidInputException($"\"{field}.{property.Name}\" must be a bool, number or string."),
            });
        }
    }

    private static string Text(JsonElement element, string property, string field) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidInputException($"\"{field}\" is required and must be a string.");
}
