using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Cluster.Client.Protocol;
using Google.Protobuf;
using Grpc.Core;
using Xunit.Abstractions;

namespace Cluster.Edge.Tests.Fuzzing;

/// <summary>
/// Hostile input against both edges. CI runs 2,000 seed-fixed cases; <c>EDGE_FUZZ_CASES=10000</c> runs more
/// (and <c>EDGE_FUZZ_SEED</c> another seed).
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed class EdgeFuzzTests(EdgeFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task HostileRequests_NoCrashHangOrInternalError_MemoryBounded()
    {
        var cases = int.Parse(Environment.GetEnvironmentVariable("EDGE_FUZZ_CASES") ?? "2000", CultureInfo.InvariantCulture);
        var seed = int.Parse(Environment.GetEnvironmentVariable("EDGE_FUZZ_SEED") ?? "20261129", CultureInfo.InvariantCulture);

        var report = await new EdgeFuzzer(fixture.Channel, fixture.Http, EdgeFixture.AdminKey).RunAsync(cases, seed);

        output.WriteLine($"{report.Cases} cases, seed {seed}: {string.Join(", ", report.Answers.Select(a => $"{a.Key} {a.Value}"))}");
        output.WriteLine($"GC heap growth {report.GcHeapGrowthMb} MiB, working set growth {report.WorkingSetGrowthMb} MiB, peak {report.PeakWorkingSetMb} MiB");
        Assert.True(report.Failures.Count == 0, string.Join(Environment.NewLine, report.Failures));
        Assert.Equal((0, 0, 0), (report.Crashes, report.Hangs, report.InternalErrors));
        Assert.True(report.GcHeapGrowthMb < 64, $"The managed heap grew by {report.GcHeapGrowthMb} MiB.");
    }

    [Fact]
    public async Task ModelInfer_MalformedProtobuf_InvalidArgument()
    {
        var method = new Method<byte[],
            byte[]>(MethodType.Unary, "inference.GRPCInferenceService", "ModelInfer", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        byte[] cutShort = [.. GrpcFuzzCases.Valid("tiny_classifier", FuzzModels.Served[0].Inputs, raw: true, batch: 1).ToByteArray()[..^3]];

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.Channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(EdgeFixture.Key()), cutShort).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith($"The {nameof(ModelInferRequest)} message is not valid protobuf", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestInfer_InvalidUtf8InAName_BadRequest()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/tiny_classifier/infer")
        {
            Content = new ByteArrayContent([.. "{\"parameters\": {\""u8, 0xFF, .. "\": 1}, \"inputs\": []}"u8]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EdgeFixture.AdminKey);

        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"error":"The request body is not valid UTF-8."}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ModelInfer_HugeInputName_RejectedWithAShortMessage()
    {
        var request = GrpcFuzzCases.Valid("tiny_classifier", FuzzModels.Served[0].Inputs, raw: true, batch: 1);
        request.Inputs[0].Name = new string('n', 200_000);

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Grpc.ModelInferAsync(request, EdgeFixture.Key()).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.EndsWith("… (cut)", error.Status.Detail, StringComparison.Ordinal);
    }
}
