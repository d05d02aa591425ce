using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Cluster.Edge.Tests.Fuzzing;

/// <summary>
/// Seed-fixed hostile REST infer requests: a valid JSON body of a demo model with structural mutations
/// (wrong types, huge numbers, lying shapes, deep nesting, unknown datatypes) and byte-level ones
/// (truncated bodies, invalid UTF-8), sent to well-formed or hostile paths.
/// </summary>
public sealed class RestFuzzCases(int seed)
{
    private const int Mutations = 12;

    private readonly Random _random = new(seed);

    /// <summary>The next case: what was done, the method (POST), the path and the body bytes.</summary>
    public (string Description, HttpMethod Method, string Path, byte[] Body) Next()
    {
        var (model, inputs) = FuzzModels.Served[_random.Next(FuzzModels.Served.Length)];
        var body = Valid(inputs, batch: _random.Next(1, 4));
        var path = $"/v2/models/{model}/infer";
        var done = new List<string> { model };
        var count = _random.Next(4);
        for (var i = 0; i < count; i++)
        {
            done.Add(Mutate(body, ref path));
        }

        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        bytes = BodyDamage.Apply(_random, bytes, 100_000,
            depth => "{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":" +
                $"{new string('[', depth)}1{new string(']', depth)}}}]}}", done);

        return (string.Join(", ", done), HttpMethod.Post, path, bytes);
    }

    /// <summary>A valid body for <paramref name="inputs"/> with <paramref name="batch"/> rows, data nested as the shape.</summary>
    public static JsonObject Valid(FuzzInput[] inputs, int batch)
    {
        var array = new JsonArray();
        foreach (var input in inputs)
        {
            var rows = new JsonArray();
            for (var r = 0; r < batch; r++)
            {
                var row = new JsonArray();
                for (var i = 0; i < input.Row.Aggregate(1L, (a, b) => a * b); i++)
                {
                    row.Add(input.Datatype switch
                    {
                        "BYTES" => JsonValue.Create("x"),
                        "BOOL" => JsonValue.Create(i % 2 == 0),
                        _ => JsonValue.Create(i),
                    });
                }

                rows.Add(row);
            }

            array.Add(new JsonObject
            {
                ["name"] = input.Name,
                ["datatype"] = input.Datatype,
                ["shape"] = new JsonArray([batch, .. input.Row.Select(d => JsonValue.Create(d))]),
                ["data"] = rows,
            });
        }

        return new JsonObject { ["id"] = "fuzz", ["inputs"] = array };
    }

    private string Mutate(JsonObject body, ref string path)
    {
        var inputs = body["inputs"] as JsonArray;
        var input = inputs is { Count: > 0 } ? inputs[_random.Next(inputs.Count)] as JsonObject : null;
        switch (_random.Next(Mutations))
        {
            case 0 when input is not null:
                input["shape"] = new JsonArray(1_000_000_000, 1_000_000_000);
                input["data"] = new JsonArray(1, 2);
                return "lying shape [1e9,1e9]";
            case 1 when input is not null:
                var field = new[] { "name", "datatype", "shape", "data" }[_random.Next(4)];
                input[field] = WrongType(_random);
                return $"{field} of a wrong type";
            case 2:
                var key = new[] { "inputs", "outputs", "parameters", "id" }[_random.Next(4)];
                body[key] = WrongType(_random);
                return $"{key} of a wrong type";
            case 3 when input is not null && input["data"] is JsonArray data && data.Count > 0:
                data[_random.Next(data.Count)] = HugeNumber(_random);
                return "huge number in data";
            case 4 when input is not null:
                input["shape"] = new JsonArray(HugeNumber(_random), 4);
                return "huge number in shape";
            case 5 when input is not null:
                input["datatype"] = FuzzModels.BadDatatypes[_random.Next(FuzzModels.BadDatatypes.Length)];
                return "unknown datatype";
            case 6 when input is not null:
                input.Remove(new[] { "name", "datatype", "shape", "data" }[_random.Next(4)]);
                return "missing field";
            case 7:
                body["parameters"] = new JsonObject { [new[] { "priority", "timeout", "sequence_id" }[_random.Next(3)]] = HugeNumber(_random) };
                return "parameter with a huge number";
            case 8:
                path = $"/v2/models/{Uri.EscapeDataString(FuzzModels.Hostile[_random.Next(FuzzModels.Hostile.Length)])}/infer";
                return "hostile model name";
            case 9:
                path = path.Replace("/infer", $"/versions/{Uri.EscapeDataString(new[] { "-1", "99999999999999999999", "1.0", "x" }[_random.Next(4)])}/infer",
                    StringComparison.Ordinal);
                return "odd version";
            case 10 when input is not null:
                input["name"] = new string('n', _random.Next(1_000, 300_000));
                return "huge input name";
            case 11 when input is not null && input["data"] is JsonArray values:
                values.Add(new JsonArray(new JsonArray(1, 2), "x", null, new JsonObject()));
                return "ragged data";
            default:
                return "unchanged";
        }
    }

    /// <summary>A JSON value of some type a field did not ask for: null, a number, a string, an object or an array.</summary>
    internal static JsonNode? WrongType(Random random) => random.Next(5) switch
    {
        0 => null,
        1 => JsonValue.Create(12),
        2 => JsonValue.Create("text"),
        3 => new JsonObject { ["a"] = 1 },
        _ => new JsonArray(true, false),
    };

    /// <summary>A number beyond what the fields hold: past double's range, past 64 bits, or merely huge.</summary>
    internal static JsonNode HugeNumber(Random random) => JsonNode.Parse(random.Next(6) switch
    {
        0 => "1e400",
        1 => "-1e400",
        2 => "99999999999999999999999999",
        3 => "-9223372036854775809",
        4 => "1.7976931348623157e308",
        _ => (random.NextDouble() * 1e20).ToString("R", CultureInfo.InvariantCulture),
    })!;
}
