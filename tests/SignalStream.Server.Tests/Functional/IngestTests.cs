using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Functional;

public sealed class IngestTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync("--Storage:HistoryLimit=1000");
    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Post_ValidSignal_Returns201WithIdAndSeq_AndBroadcastsStoredForm()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;

        using var response = await _server.PostSignalAsync(TestServer.NewSignal("ext-1", "eth-usd"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse))!;
        Assert.False(body.Duplicate);
        Assert.NotEmpty(body.Id);

        var frame = await socket.ExpectAsync(MessageTypes.Signal);
        Assert.Equal(body.Seq, frame.Seq);
        Assert.Equal(body.Id, frame.Signal!.Id);
        Assert.Equal("ETH-USD", frame.Signal.Symbol);
        Assert.Equal("ext-1", frame.Signal.ExternalId);
        Assert.Equal(65000.5m, frame.Signal.EntryPrice);
        Assert.Equal(Tier.Starter, frame.Signal.MinTier);
        Assert.False(frame.Signal.Premium);
        Assert.True(frame.Signal.ReceivedAt > DateTimeOffset.UtcNow.AddMinutes(-1));
    }

    [Fact]
    public async Task Post_SameExternalIdFiftyTimesAtOnce_StoresOneAndBroadcastsOnce()
    {
        var user = await _server.CreateUserAsync(Tier.Institutional);
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;

        var body = TestServer.NewSignal("same-id");
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _server.PostSignalAsync(body)));
        var answers = await Task.WhenAll(responses.Select(r => r.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(49, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Single(answers.Select(a => (a!.Id, a.Seq)).Distinct());
        Assert.Equal(49, answers.Count(a => a!.Duplicate));

        var frames = await socket.DrainUntilPongAsync();
        Assert.Single(frames, f => f.Type == MessageTypes.Signal);
    }

    [Fact]
    public async Task Post_SameExternalIdFromAnotherSource_IsANewSignal()
    {
        using var a = await _server.PostSignalAsync(TestServer.NewSignal("shared-id", source: "one"));
        using var b = await _server.PostSignalAsync(TestServer.NewSignal("shared-id", source: "two"));
        Assert.Equal(HttpStatusCode.Created, a.StatusCode);
        Assert.Equal(HttpStatusCode.Created, b.StatusCode);
    }

    [Theory]
    [InlineData("""{"source":"s","symbol":"BTC-USD","side":"BUY"}""", "external_id")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC-USD","side":"HOLD"}""", "side")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","entry_price":-1}""", "entry_price")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","entry_price":"NaN"}""", "entry_price")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","stop_loss":0}""", "stop_loss")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","entry_price":100,"stop_loss":101}""", "stop_loss")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC-USD","side":"SELL","entry_price":100,"take_profit":101}""", "take_profit")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","confidence":1.5}""", "confidence")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","min_tier":"GOLD"}""", "min_tier")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","premium":"yes"}""", "premium")]
    [InlineData("""{"external_id":42,"source":"s","symbol":"BTC-USD","side":"BUY"}""", "external_id")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC USD <b>","side":"BUY"}""", "symbol")]
    [InlineData("""{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","generated_at":"yesterday"}""", "generated_at")]
    [InlineData("""[1,2,3]""", "$")]
    public async Task Post_InvalidField_Returns400NamingTheField_AndStoresNothing(string json, string field)
    {
        var before = await CountSignalsAsync();
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = content };
        request.Headers.Add("X-API-Key", TestServer.PublisherKey);
        using var response = await _server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"errors should name {field}");
        Assert.Equal(before, await CountSignalsAsync());
    }

    [Fact]
    public async Task Post_MalformedJson_Returns400Problem()
    {
        using var content = new StringContent("{\"external_id\": ", Encoding.UTF8, "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = content };
        request.Headers.Add("X-API-Key", TestServer.PublisherKey);
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Malformed JSON", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key")]
    [InlineData(TestServer.AdminKey)]
    public async Task Post_WithoutPublisherKey_Returns401(string? key)
    {
        using var response = await _server.PostSignalAsync(TestServer.NewSignal(), key);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Post_KeyInQueryString_Returns401()
    {
        using var response = await _server.Http.PostAsJsonAsync($"{Paths.Ingest}?api_key={TestServer.PublisherKey}", TestServer.NewSignal());
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Post_WrongContentType_Returns415()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = new StringContent("external_id=x", Encoding.UTF8, "text/plain") };
        request.Headers.Add("X-API-Key", TestServer.PublisherKey);
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Post_BodyOverTheIngestLimit_Returns413()
    {
        // Under Kestrel's own 1 MB ceiling, so the server reads far enough to answer instead of resetting.
        var notes = new string('x', 900 * 1024);
        using var response = await _server.PostSignalAsync(TestServer.NewSignal(notes: notes));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Post_MarkupAndSql_AreStoredAsDataAndEscapedOnOutput()
    {
        const string notes = "<script>alert(1)</script>'; DROP TABLE signals; --";
        var seq = await _server.PublishAsync(notes: notes);
        var user = await _server.CreateUserAsync(Tier.Starter);
        using var request = TestServer.UserRequest(HttpMethod.Get, $"{Paths.Signals}?after_seq={seq - 1}", user.Token);
        using var response = await _server.Http.SendAsync(request);
        var raw = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", raw, StringComparison.Ordinal); // JSON-escaped as \u003C
        var page = JsonSerializer.Deserialize(raw, ProtocolJson.Default.SignalPage)!;
        Assert.Equal(notes, Assert.Single(page.Signals).Notes);
    }

    [Fact]
    public async Task Post_WhileDatabaseIsLocked_Returns503AndBroadcastsNothing_ThenARetryStoresOnce()
    {
        await using var server = await TestServer.StartAsync("--Storage:ConnectionString=Data Source=" + Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N") + ".db") + ";Default Timeout=1");
        var user = await server.CreateUserAsync(Tier.Starter);
        var (socket, _) = await server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;
        var body = TestServer.NewSignal("during-outage");

        var dbPath = new SqliteConnectionStringBuilder(server.Get<SignalStream.Server.Storage.SqliteDatabase>().ConnectionString).DataSource;
        await using (var blocker = new SqliteConnection($"Data Source={dbPath}"))
        {
            await blocker.OpenAsync();
            using var lockCommand = blocker.CreateCommand();
            lockCommand.CommandText = "BEGIN EXCLUSIVE";
            await lockCommand.ExecuteNonQueryAsync();

            using var refused = await server.PostSignalAsync(body);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal(WebSocketStateOpen, socket.Inner.State);
            lockCommand.CommandText = "ROLLBACK";
            await lockCommand.ExecuteNonQueryAsync();
        }

        using var retried = await server.PostSignalAsync(body);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        using var again = await server.PostSignalAsync(body);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var frames = await socket.DrainUntilPongAsync();
        Assert.Single(frames, f => f.Type == MessageTypes.Signal);
    }

    private const System.Net.WebSockets.WebSocketState WebSocketStateOpen = System.Net.WebSockets.WebSocketState.Open;

    private async Task<long> CountSignalsAsync()
    {
        var db = _server.Get<SignalStream.Server.Storage.SqliteDatabase>();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM signals";
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
