using Cluster.Client.Protocol;
using Google.Protobuf;
using InputTensor = Cluster.Client.Protocol.ModelInferRequest.Types.InferInputTensor;

namespace Cluster.Edge.Tests.Fuzzing;

/// <summary>
/// Seed-fixed hostile <c>ModelInferRequest</c>s as wire bytes: a valid request of a demo model with one
/// to three structural mutations (lying shapes, wrong raw sizes, huge strings, unknown datatypes, mixed
/// raw and typed data, missing fields, odd parameters), and sometimes the encoded bytes themselves
/// flipped, cut or replaced, so the server also parses malformed protobuf.
/// </summary>
public sealed class GrpcFuzzCases(int seed)
{
    private const int Mutations = 16;

    private readonly Random _random = new(seed);

    /// <summary>The next case: what was done (for reports) and the message bytes.</summary>
    public (string Description, byte[] Message) Next()
    {
        var (model, inputs) = FuzzModels.Served[_random.Next(FuzzModels.Served.Length)];
        var raw = _random.Next(2) == 0;
        var request = Valid(model, inputs, raw, batch: _random.Next(1, 4));
        var done = new List<string> { $"{model} {(raw ? "raw" : "typed")}" };
        var count = _random.Next(4);
        for (var i = 0; i < count; i++)
        {
            done.Add(Mutate(request));
        }

        var bytes = request.ToByteArray();
        if (_random.Next(5) == 0)
        {
            done.Add(MutateBytes(ref bytes));
        }

        return (string.Join(", ", done), bytes);
    }

    /// <summary>A valid request of <paramref name="model"/> with <paramref name="batch"/> rows of small values.</summary>
    public static ModelInferRequest Valid(string model, FuzzInput[] inputs, bool raw, int batch)
    {
        var request = new ModelInferRequest { ModelName = model, Id = "fuzz" };
        foreach (var input in inputs)
        {
            var tensor = new InputTensor { Name = input.Name, Datatype = input.Datatype };
            tensor.Shape.Add(batch);
            tensor.Shape.Add(input.Row);
            var elements = batch * (int)input.Row.Aggregate(1L, (a, b) => a * b);
            if (raw || input.Datatype is "FP16")
            {
                request.RawInputContents.Add(ByteString.CopyFrom(RawValues(input.Datatype, elements)));
            }
            else
            {
                tensor.Contents = TypedValues(input.Datatype, elements);
            }

            request.Inputs.Add(tensor);
        }

        // FP16 travels only raw, so a request with it is raw throughout.
        if (request.RawInputContents.Count > 0 && request.RawInputContents.Count < request.Inputs.Count)
        {
            return Valid(model, inputs, raw: true, batch);
        }

        return request;
    }

    private string Mutate(ModelInferRequest request)
    {
        var input = request.Inputs.Count > 0 ? request.Inputs[_random.Next(request.Inputs.Count)] : null;
        switch (_random.Next(Mutations))
        {
            case 0 when input is not null:
                input.Shape.Clear();
                input.Shape.Add([1_000_000_000, 1_000_000_000]);
                request.RawInputContents.Clear();
                request.RawInputContents.Add(ByteString.CopyFrom(new byte[8]));
                input.Contents = null;
                return "lying shape [1e9,1e9] with 8 bytes";
            case 1 when request.RawInputContents.Count > 0:
                var index = _random.Next(request.RawInputContents.Count);
                request.RawInputContents[index] = ByteString.CopyFrom(RandomBytes(_random.Next(0, 64)));
                return "wrong raw size";
            case 2:
                var huge = new string((char)_random.Next(32, 0x2FFF), _random.Next(1_000, 200_000));
                switch (_random.Next(4))
                {
                    case 0: request.ModelName = huge; break;
                    case 1: request.Id = huge; break;
                    case 2 when input is not null: input.Name = huge; break;
                    default: request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = huge }); break;
                }

                return "huge string";
            case 3 when input is not null:
                input.Datatype = FuzzModels.BadDatatypes[_random.Next(FuzzModels.BadDatatypes.Length)];
                return $"datatype '{input.Datatype}'";
            case 4 when input is { Shape.Count: > 0 }:
                var dimension = FuzzModels.BadDimensions[_random.Next(FuzzModels.BadDimensions.Length)];
                input.Shape[_random.Next(input.Shape.Count)] = dimension;
                return $"dimension {dimension}";
            case 5 when input is not null:
                input.Contents = TypedValues("FP32", 4);
                request.RawInputContents.Add(ByteString.CopyFrom(new byte[16]));
                return "mixed raw and typed";
            case 6:
                switch (_random.Next(5))
                {
                    case 0: request.ModelName = ""; break;
                    case 1: request.Inputs.Clear(); break;
                    case 2 when input is not null: input.Name = ""; break;
                    case 3 when input is not null: input.Datatype = ""; break;
                    default: input?.Shape.Clear(); break;
                }

                return "missing field";
            case 7:
                var name = new[] { "priority", "timeout", "sequence_id", "sequence_start", "binary_data_output", "x" }[_random.Next(6)];
                request.Parameters[name] = _random.Next(5) switch
                {
                    0 => new InferParameter { Int64Param = _random.Next(2) == 0 ? long.MinValue : long.MaxValue },
                    1 => new InferParameter { Uint64Param = ulong.MaxValue },
                    2 => new InferParameter { DoubleParam = double.NaN },
                    3 => new InferParameter { StringParam = "1e9" },
                    _ => new InferParameter(),
                };
                return $"parameter {name}";
            case 8:
                request.RawInputContents.Add(ByteString.CopyFrom(RandomBytes(16)));
                return "extra raw_input_contents";
            case 9 when input is not null:
                input.Contents = TypedValues(new[] { "INT32", "INT64", "UINT32", "UINT64", "BOOL", "BYTES", "FP64" }[_random.Next(7)], Elements(input));
                request.RawInputContents.Clear();
                return "typed contents in another field";
            case 10 when input is not null:
                input.Datatype = "BYTES";
                input.Contents = null;
                request.RawInputContents.Clear();
                var prefixes = new byte[12];
                BitConverter.TryWriteBytes(prefixes, _random.Next(2) == 0 ? uint.MaxValue : 0x7FFFFFF0u);
                for (var i = 1; i < request.Inputs.Count + 1; i++)
                {
                    request.RawInputContents.Add(ByteString.CopyFrom(prefixes));
                }

                return "BYTES with lying length prefixes";
            case 11:
                request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "probabilities" });
                request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "probabilities" });
                return "duplicate requested outputs";
            case 12 when input is not null:
                request.Inputs.Add(input.Clone());
                return "duplicate input";
            case 13:
                request.ModelVersion = new[] { "-1", "0", "99999999999999999999", " 1", "1.0", "+1", "٣" }[_random.Next(7)];
                return $"version '{request.ModelVersion}'";
            case 14:
                request.ModelName = FuzzModels.Hostile[_random.Next(FuzzModels.Hostile.Length)];
                return $"model '{request.ModelName}'";
            default:
                return "unchanged";
        }
    }

    private string MutateBytes(ref byte[] bytes)
    {
        switch (_random.Next(4))
        {
            case 0:
                for (var i = 0; i < 1 + _random.Next(8) && bytes.Length > 0; i++)
                {
                    bytes[_random.Next(bytes.Length)] ^= (byte)(1 << _random.Next(8));
                }

                return "bits flipped";
            case 1:
                bytes = bytes[..(bytes.Length == 0 ? 0 : _random.Next(bytes.Length))];
                return "message cut short";
            case 2:
                var at = _random.Next(bytes.Length + 1);
                bytes = [.. bytes[..at], .. RandomBytes(_random.Next(1, 32)), .. bytes[at..]];
                return "random bytes inserted";
            default:
                bytes = RandomBytes(_random.Next(1, 512));
                return "random bytes";
        }
    }

    /// <summary>The input's element count when its shape is small and valid, else 0.</summary>
    private static int Elements(InputTensor input)
    {
        long count = 1;
        foreach (var d in input.Shape)
        {
            if (d is < 0 or > 4096 || (count *= d) > 4096)
            {
                return 0;
            }
        }

        return (int)count;
    }

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] RawValues(string datatype, int elements) => datatype switch
    {
        "BYTES" => Enumerable.Range(0, elements).SelectMany(_ => (byte[])[1, 0, 0, 0, (byte)'x']).ToArray(),
        "FP32" or "INT32" => new byte[elements * 4],
        "INT64" => new byte[elements * 8],
        "FP16" => new byte[elements * 2],
        _ => new byte[elements],
    };

    private static InferTensorContents TypedValues(string datatype, int elements)
    {
        var contents = new InferTensorContents();
        for (var i = 0; i < elements; i++)
        {
            switch (datatype)
            {
                case "FP32": contents.Fp32Contents.Add(i); break;
                case "FP64": contents.Fp64Contents.Add(i); break;
                case "INT64": contents.Int64Contents.Add(i); break;
                case "INT32": contents.IntContents.Add(i); break;
                case "UINT64": contents.Uint64Contents.Add((ulong)i); break;
                case "UINT8" or "UINT32": contents.UintContents.Add((uint)i); break;
                case "BOOL": contents.BoolContents.Add(i % 2 == 0); break;
                default: contents.BytesContents.Add(ByteString.CopyFromUtf8("x")); break;
            }
        }

        return contents;
    }
}
