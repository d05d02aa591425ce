using System.Net;
using System.Net.Http.Headers;
using Cluster.Grains.Tests;
using Grpc.Core;
using Xunit.Abstractions;

namespace Cluster.Edge.Tests;

/// <summary>
/// An edge with keys and the default 64 MiB message limit: a caller without a key cannot make it read, buffer or parse a
/// request message; the gRPC status comes from the headers alone.
/// </summary>
[Collection(ProcessAllocationCollection.Name)]
public sealed class NoWorkBeforeAuthenticationTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int MessageBytes = 60 * 1024 * 1024;
    private const long MaxAllocatedBytes = 100L * 1024 * 1024;

    private InProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync(
        ["unauthenticated"],
        perSilo: _ => new()
        {
            ["Cluster:BundledModels"] = "",
            ["Cluster:Edge:ApiKeys:0:Key"] = EdgeFixture.InferKey,
            ["Cluster:Edge:ApiKeys:0:Scopes:0"] = "infer",
        });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task UnauthenticatedSixtyMegabyteGrpcMessage_IsRefusedWithoutBeingRead()
    {
        using var http = new HttpClient();

        // The silo runs in this process: every byte it allocates for the message counts here (the client reuses one 64 KiB buffer).
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var (status, message) = await SendModelInferAsync(http);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        output.WriteLine($"refusing a {MessageBytes / (1024 * 1024)} MiB message allocated {allocated / 1024.0 / 1024.0:F1} MiB");
        Assert.Equal(StatusCode.Unauthenticated, status);
        Assert.Contains("An API key is required", message, StringComparison.Ordinal);
        Assert.True(allocated < MaxAllocatedBytes, $"refusing a {MessageBytes / (1024 * 1024)} MiB message allocated {allocated / (1024 * 1024)} MiB");
    }

    /// <summary>Posts one length-prefixed ModelInfer message of <see cref="MessageBytes"/> without a key; its grpc-status and grpc-message.</summary>
    private async Task<(StatusCode Status, string Message)> SendModelInferAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _cluster.GrpcAddresses[0] + "/inference.GRPCInferenceService/ModelInfer")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new LargeModelInferMessage(MessageBytes),
        };
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await response.Content.ReadAsByteArrayAsync();
        var headers = response.Headers.Contains("grpc-status") ? response.Headers : response.TrailingHeaders;
        return ((StatusCode)int.Parse(headers.GetValues("grpc-status").Single(), System.Globalization.CultureInfo.InvariantCulture),
            Uri.UnescapeDataString(headers.TryGetValues("grpc-message", out var messages) ? messages.Single() : ""));
    }

    /// <summary>A gRPC frame holding a ModelInferRequest whose <c>raw_input_contents</c> (field 7) fills it, written from one small buffer.</summary>
    private sealed class LargeModelInferMessage : HttpContent
    {
        private readonly int _messageBytes;

        public LargeModelInferMessage(int messageBytes)
        {
            _messageBytes = messageBytes;
            Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            // Frame header (uncompressed, big-endian length), then tag 7/length-delimited and a 4-byte varint length.
            const int FieldHeader = 5;
            var payload = _messageBytes - FieldHeader;
            byte[] header =
            [
                0, (byte)(_messageBytes >> 24), (byte)(_messageBytes >> 16), (byte)(_messageBytes >> 8), (byte)_messageBytes,
                (7 << 3) | 2, (byte)(0x80 | (payload & 0x7F)), (byte)(0x80 | ((payload >> 7) & 0x7F)), (byte)(0x80 | ((payload >> 14) & 0x7F)),
                    (byte)(payload >> 21),
            ];
            await stream.WriteAsync(header);
            var chunk = new byte[64 * 1024];
            for (var left = payload; left > 0; left -= chunk.Length)
            {
                await stream.WriteAsync(chunk.AsMemory(0, Math.Min(left, chunk.Length)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 5L + _messageBytes;
            return true;
        }
    }
}

/// <summary>The allocation counter covers the whole process: no other test of this assembly runs while it is read.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessAllocationCollection
{
    public const string Name = "process allocation";
}
