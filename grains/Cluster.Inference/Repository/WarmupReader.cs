using System.Text.Json;
using Cluster.Contracts.Models;
using Cluster.Contracts.Tensors;

namespace Cluster.Inference.Repository;

/// <summary>Reads Triton's <c>model_warmup</c> array.</summary>
internal static class WarmupReader
{
    private const string KnownSetting = "name, batch_size, count, inputs";
    private const string KnownInput = "data_type, dims, zero_data, random_data, input_data_file";

    /// <summary>The most elements a warm-up input may have, over its whole batch (16 Mi: 64 MiB of FP32).</summary>
    private const long MaxElements = 1 << 24;

    public static WarmupSetting[] Read(string file, JsonElement value)
    {
        var settings = new List<WarmupSetting>();
        var index = 0;
        foreach (var item in ConfigFields.Array(file, "model_warmup", value).EnumerateArray())
        {
            var field = $"model_warmup[{index++}]";
            var setting = new WarmupSetting { Name = field, Inputs = [] };
            foreach (var property in ConfigFields.Object(file, field, item).EnumerateObject())
            {
                var path = $"{field}.{property.Name}";
                setting = property.Name switch
                {
                    "name" => setting with { Name = ConfigFields.String(file, path, property.Value) },
                    "batch_size" => setting with { BatchSize = ConfigFields.Int(file, path, property.Value, min: 1, max: ModelConfigReader.MaxBatchSize) },
                    "count" => setting with { Count = ConfigFields.Int(file, path, property.Value, min: 1, max: 1_000) },
                    "inputs" => setting with
                    {
                        Inputs = [.. ConfigFields.Object(file, path, property.Value).EnumerateObject()
                            .Select(i => ReadInput(file, $"{path}.{i.Name}", i.Name, i.Value))],
                    },
                    _ => throw ConfigFields.Unknown(file, path, KnownSetting),
                };
            }

            if (setting.Inputs.Length == 0)
            {
                throw new ModelConfigException(file, $"{field}.inputs", "must name at least one input");
            }

            foreach (var input in setting.Inputs)
            {
                var elements = setting.BatchSize * input.Dims.Aggregate(1L, (product, dim) => product * dim);
                if (elements > MaxElements)
                {
                    throw new ModelConfigException(file, $"{field}.inputs.{input.Name}.dims",
                        $"with batch_size {setting.BatchSize} describe {elements} elements, more than {MaxElements}");
                }
            }

            settings.Add(setting);
        }

        return [.. settings];
    }

    private static WarmupInput ReadInput(string file, string field, string name, JsonElement value)
    {
        TensorElementType? type = null;
        long[]? dims = null;
        var sources = new List<(WarmupData Data, string? File)>();
        foreach (var property in ConfigFields.Object(file, field, value).EnumerateObject())
        {
            var path = $"{field}.{property.Name}";
            switch (property.Name)
            {
                case "data_type":
                    var text = ConfigFields.String(file, path, property.Value);
                    type = TensorElementTypes.FromProtocolName(text.StartsWith("TYPE_", StringComparison.Ordinal) ? TritonTypeName(text[5..]) : text);
                    if (type == TensorElementType.Unknown)
                    {
                        throw new ModelConfigException(file, path, $"\"{text}\" is not a datatype (e.g. TYPE_FP32, TYPE_INT64, TYPE_STRING)");
                    }

                    break;
                case "dims":
                    dims = Dims(file, path, property.Value);
                    break;
                case "zero_data" when ConfigFields.Bool(file, path, property.Value):
                    sources.Add((WarmupData.Zero, null));
                    break;
                case "random_data" when ConfigFields.Bool(file, path, property.Value):
                    sources.Add((WarmupData.Random, null));
                    break;
                case "input_data_file":
                    sources.Add((WarmupData.File, ConfigFields.String(file, path, property.Value)));
                    break;
                case "zero_data" or "random_data":
                    break;
                default:
                    throw ConfigFields.Unknown(file, path, KnownInput);
            }
        }

        if (sources.Count != 1)
        {
            throw new ModelConfigException(file, field, "needs exactly one of zero_data, random_data, input_data_file");
        }

        return new WarmupInput
        {
            Name = name,
            ElementType = type ?? throw new ModelConfigException(file, $"{field}.data_type", "is required"),
            Dims = dims ?? throw new ModelConfigException(file, $"{field}.dims", "is required"),
            Data = sources[0].Data,
            File = sources[0].File,
        };
    }

    /// <summary>The dims of one warm-up input; their product (the elements of one sample) is at most <see cref="MaxElements"/>.</summary>
    private static long[] Dims(string file, string field, JsonElement value)
    {
        var dims = ConfigFields.Array(file, field, value).EnumerateArray().Select(d => ConfigFields.Long(file, field, d, min: 1, max: MaxElements)).ToArray();
        var elements = 1L;
        foreach (var dim in dims)
        {
            elements *= dim;
            if (elements > MaxElements)
            {
                throw new ModelConfigException(file, field, $"describe more than {MaxElements} elements per sample ({string.Join(" x ", dims)})");
            }
        }

        return dims;
    }

    private static string TritonTypeName(string suffix) => suffix == "STRING" ? "BYTES" : suffix;
}
