using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Storage;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Ingest;

/// <summary>The batch extension (docs/protocol.md): one result per item, the valid ones stored and broadcast in order.</summary>
[Trait("Kind", "Functional")]
public sealed class BatchIngestTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync("--Limits:IngestPerSecond=20");
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Json(object value) => JsonSerializer.Serialize(value);

    private async Task<(HttpStatusCode Status, string Body)> PostBatchAsync(string body, string contentType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.IngestBatch) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        request.Headers.Add("X-API-Key", TestServer.PublisherKey);
        using var response = await _server.Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/x-ndjson")]
    public async Task Batch_WithInvalidItems_Answers400PerInvalidItem_StoresAndBroadcastsTheValidOnesInOrder(string contentType)
    {
        var user = await _server.CreateUserAsync(Tier.Institutional);
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;
        var repeated = await _server.PublishAsync(externalId: "batch-seen-before");

        string[] items =
        [
            Json(TestServer.NewSignal("batch-a")),
            """{"external_id":"batch-bad","source":"s","symbol":"BTC-USD","side":"HOLD"}""",
            Json(TestServer.NewSignal("batch-seen-before")),
            Json(TestServer.NewSignal("batch-b", minTier: Tier.Professional)),
            """{"external_id":"batch-no-source","symbol":"BTC-USD","side":"BUY","entry_price":-1}""",
            Json(TestServer.NewSignal("batch-a")),
        ];
        var body = contentType == "application/json" ? "[" + string.Join(",", items) + "]" : string.Join("\n", items) + "\n";
        var (status, text) = await PostBatchAsync(body, contentType);

        Assert.Equal(HttpStatusCode.OK, status);
        var results = JsonSerializer.Deserialize(text, ProtocolJson.Default.BatchIngestResponse)!.Results;
        Assert.Equal([0, 1, 2, 3, 4, 5], results.Select(r => r.Index));
        Assert.Equal([201, 400, 200, 201, 400, 200], results.Select(r => r.Status));
        Assert.Equal(["side"], results[1].Errors!.Keys);
        Assert.Equal(["entry_price", "source"], results[4].Errors!.Keys.Order());
        Assert.Equal(repeated, results[2].Seq);
        Assert.True(results[2].Duplicate);
        Assert.Equal(results[0].Seq + 1, results[3].Seq); // the valid ones in order, no gap
        Assert.Equal((results[0].Id, results[0].Seq, true), (results[5].Id, results[5].Seq, results[5].Duplicate!.Value));

        var frames = await socket.ReceiveSignalsAsync(3);
        Assert.Equal([repeated, results[0].Seq!.Value, results[3].Seq!.Value], frames.Select(f => f.Seq!.Value));
        Assert.DoesNotContain(await socket.DrainUntilPongAsync(), f => f.Type == MessageTypes.Signal);
        var stored = await _server.Get<ISignalStore>().ReadAfterAsync(0, Tier.Institutional, 100, false, default);
        Assert.Equal(["batch-seen-before", "batch-a", "batch-b"], stored.Select(s => JsonDocument.Parse(s.Json).RootElement.GetProperty("external_id").GetString()));
    }

    [Fact]
    public async Task Ndjson_LineThatIsNotJson_FailsOnlyThatItem()
    {
        var (status, text) = await PostBatchAsync(Json(TestServer.NewSignal("nd-ok")) + "\n{not json\n", "application/x-ndjson");
        Assert.Equal(HttpStatusCode.OK, status);
        var results = JsonSerializer.Deserialize(text, ProtocolJson.Default.BatchIngestResponse)!.Results;
        Assert.Equal([201, 400], results.Select(r => r.Status));
        Assert.Contains("not valid JSON", results[1].Errors!["$"][0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("{\"external_id\":\"x\"}", "application/json", HttpStatusCode.BadRequest)] // not an array
    [InlineData("[{\"a\":", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("[]", "text/plain", HttpStatusCode.UnsupportedMediaType)]
    public async Task Batch_WholeBodyWrong_IsAProblem_NothingStored(string body, string contentType, HttpStatusCode expected)
    {
        var (status, text) = await PostBatchAsync(body, contentType);
        Assert.Equal(expected, status);
        Assert.Contains("\"title\"", text, StringComparison.Ordinal);
        Assert.Equal(0, (await _server.Get<ISignalStore>().GetBoundsAsync(default)).LastSeq);
    }

    [Fact]
    public async Task Batch_TakesOneRateTokenPerSignal_SharedWithTheSingleEndpoint()
    {
        // Limit 20 a second: more items than that is never granted.
        var tooMany = "[" + string.Join(",", Enumerable.Range(0, 21).Select(i => Json(TestServer.NewSignal($"rl-big-{i}")))) + "]";
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PostBatchAsync(tooMany, "application/json")).Status);

        // Four batches of 15 at once are 60 tokens from a bucket of 20: some must be refused (a limit counting requests
        // would grant all four). The bucket refills each second, so a busy machine gets a few more rounds to show it.
        var accepted = 0;
        var refused = 0;
        for (var round = 0; round < 5 && refused == 0; round++)
        {
            var statuses = await Task.WhenAll(Enumerable.Range(0, 4).Select(b =>
                PostBatchAsync("[" + string.Join(",", Enumerable.Range(0, 15).Select(i => Json(TestServer.NewSignal($"rl-{round}-{b}-{i}")))) + "]", "application/json")));
            accepted += statuses.Count(s => s.Status == HttpStatusCode.OK);
            refused += statuses.Count(s => s.Status == HttpStatusCode.TooManyRequests);
            Assert.All(statuses, s => Assert.Contains(s.Status, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        }
        Assert.True(refused > 0, "no batch was refused: the limit does not count signals");
        Assert.Equal(15 * accepted, (await _server.Get<ISignalStore>().GetBoundsAsync(default)).LastSeq); // nothing of a refused batch stored
    }

    [Fact]
    public async Task Batch_WithoutThePublisherKey_Is401()
    {
        using var response = await _server.Http.PostAsJsonAsync(Paths.IngestBatch, new[] { TestServer.NewSignal() });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
