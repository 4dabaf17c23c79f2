using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Storage;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Ingest;

/// <summary>
/// SECURITY.md, "Ingest": every refused request gets its status, and nothing from it is stored or
/// broadcast (a connected STARTER socket sees no signal; the signals table does not grow).
/// </summary>
[Trait("Kind", "Security")]
public sealed class IngestAbuseTests(IngestAbuseTests.Fixture fixture) : IClassFixture<IngestAbuseTests.Fixture>
{
    public sealed class Fixture() : ServerFixture("--Limits:IngestBodyTimeout=00:00:02");

    private TestServer Server => fixture.Server;

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("wrong-key-0123456789", "")]
    [InlineData(TestServer.AdminKey, "")]                            // the admin key is not a publisher key
    [InlineData("test-publisher-key-012345678", "")]                  // near misses do not pass: a prefix,
    [InlineData(TestServer.PublisherKey + "0", "")]                   // an extension,
    [InlineData("TEST-PUBLISHER-KEY-0123456789", "")]                 // another case
    [InlineData(null, "?api_key=" + TestServer.PublisherKey)]         // never from the query string
    [InlineData(null, "?X-API-Key=" + TestServer.PublisherKey)]
    public async Task Post_WithoutAValidPublisherKeyHeader_Is401_NothingStoredOrBroadcast(string? key, string query)
    {
        await AssertNothingGetsThroughAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest + query) { Content = JsonContent.Create(TestServer.NewSignal()) };
            if (key is not null) request.Headers.TryAddWithoutValidation("X-API-Key", key);
            using var response = await Server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        });
    }

    [Fact]
    public async Task Post_InvalidBodies_Are400Or415_NothingStoredOrBroadcast()
    {
        (string ContentType, string Body, HttpStatusCode Status, string? Field)[] cases =
        [
            ("application/json", "{\"external_id\": ", HttpStatusCode.BadRequest, null),
            ("application/json", "", HttpStatusCode.BadRequest, null),
            ("application/json", "null", HttpStatusCode.BadRequest, null),
            ("application/json", """{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","entry_price":-5}""", HttpStatusCode.BadRequest, "entry_price"),
            ("application/json", """{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","entry_price":"NaN"}""", HttpStatusCode.BadRequest, "entry_price"),
            ("application/json", """{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","take_profit":1e400}""", HttpStatusCode.BadRequest, "take_profit"),
            ("application/json", """{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","confidence":-0.01}""", HttpStatusCode.BadRequest, "confidence"),
            ("application/json", """{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","confidence":1.01}""", HttpStatusCode.BadRequest, "confidence"),
            ("application/json", """{"external_id":"x","source":"s","symbol":"BTC-USD","side":"buy!"}""", HttpStatusCode.BadRequest, "side"),
            ("application/json", """{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","min_tier":"ADMIN"}""", HttpStatusCode.BadRequest, "min_tier"),
            ("application/json", """{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY","entry_price":"65000"}""", HttpStatusCode.BadRequest, "entry_price"),
            ("application/json", """{"external_id":["x"],"source":"s","symbol":"BTC-USD","side":"BUY"}""", HttpStatusCode.BadRequest, "external_id"),
            ("text/plain", """{"external_id":"x","source":"s","symbol":"BTC-USD","side":"BUY"}""", HttpStatusCode.UnsupportedMediaType, null),
            ("application/x-www-form-urlencoded", "external_id=x&source=s&symbol=BTC-USD&side=BUY", HttpStatusCode.UnsupportedMediaType, null),
        ];
        await AssertNothingGetsThroughAsync(async () =>
        {
            foreach (var (type, body, status, field) in cases)
            {
                using var content = new StringContent(body, Encoding.UTF8);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(type);
                using var response = await PostAsync(content);
                Assert.Equal(status, response.StatusCode);
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                if (field is null) continue;
                using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"errors should name {field} for {body}");
            }
        });
    }

    [Fact]
    public async Task Post_BodyOverTheLimit_Is413_WithOrWithoutContentLength_NothingStored()
    {
        // 900 KB: far over the ingest limit (64 KB), under Kestrel's request limit (1 MB), so the
        // server reads and drops the rest after its 413 and the client always gets to read it.
        var huge = JsonSerializer.Serialize(TestServer.NewSignal(notes: new string('x', 900 * 1024)));
        await AssertNothingGetsThroughAsync(async () =>
        {
            using (var declared = await PostAsync(new StringContent(huge, Encoding.UTF8, "application/json")))
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
            // Chunked: no Content-Length to refuse up front, so the limit applies while reading.
            using var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge)));
            chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = chunked };
            request.Headers.Add("X-API-Key", TestServer.PublisherKey);
            request.Headers.TransferEncodingChunked = true;
            using var response = await Server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        });
    }

    [Fact]
    public async Task Post_DeclaringTenMegabytes_Is413AtOnce_WithoutReadingTheBody()
    {
        await AssertNothingGetsThroughAsync(async () =>
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(Server.BaseUri.Host, Server.BaseUri.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {Paths.Ingest} HTTP/1.1\r\nHost: {Server.BaseUri.Authority}\r\n" +
                $"X-API-Key: {TestServer.PublisherKey}\r\nContent-Type: application/json\r\nContent-Length: {10 * 1024 * 1024}\r\n\r\n{{\"external_id\":"));
            Assert.Equal(413, await ReadResponseHeadAsync(stream)); // not one more byte of the body was sent
        });
    }

    [Fact]
    public async Task Post_SlowDrippedBody_TimesOutWith408_NothingStored()
    {
        await AssertNothingGetsThroughAsync(async () =>
        {
            var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(TestServer.NewSignal()));
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(Server.BaseUri.Host, Server.BaseUri.Port);
            var stream = tcp.GetStream();
            var head = $"POST {Paths.Ingest} HTTP/1.1\r\nHost: {Server.BaseUri.Authority}\r\nX-API-Key: {TestServer.PublisherKey}\r\n" +
                       $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));

            // One byte every 200 ms: the whole body would take longer than half a minute.
            var watch = Stopwatch.StartNew();
            var response = ReadResponseHeadAsync(stream);
            for (var i = 0; i < body.Length && !response.IsCompleted; i++)
            {
                try { await stream.WriteAsync(body.AsMemory(i, 1)); }
                catch (IOException) { break; } // the server gave up on us
                await Task.WhenAny(response, Task.Delay(200));
            }
            Assert.Equal(408, await response);
            Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(20)); // the whole body would take 30 s
        });
    }

    [Fact]
    public async Task Post_MarkupAndSqlInTextFields_AreStoredAsData_AndJsonEscapedOnTheSocket()
    {
        const string notes = "<script>alert('x')</script>\"; DROP TABLE signals; --";
        await using var raw = await Server.ConnectRawAsync(bearer: fixture.User.Token);
        await raw.ExpectTextAsync(); // welcome
        var seq = await Server.PublishAsync(notes: notes, externalId: "<img src=x onerror=alert(1)>");
        var text = await raw.ExpectTextAsync();
        Assert.DoesNotContain("<script>", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", text, StringComparison.Ordinal);
        var frame = JsonSerializer.Deserialize(text, ProtocolJson.Default.ServerMessage)!;
        Assert.Equal(seq, frame.Seq);
        Assert.Equal(notes, frame.Signal!.Notes);
        Assert.True(await CountAsync() >= 1, "the signals table survived");
    }

    [Fact]
    public async Task Post_SameExternalIdAgain_Is200DuplicateWithTheOriginalIdAndSeq_OneRowOneBroadcast()
    {
        await using var raw = await Server.ConnectRawAsync(bearer: fixture.User.Token);
        await raw.ExpectTextAsync(); // welcome
        var before = await CountAsync();
        var body = TestServer.NewSignal($"dup-{Guid.NewGuid():N}");
        using var first = await Server.PostSignalAsync(body);
        using var second = await Server.PostSignalAsync(body);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var a = (await first.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse))!;
        var b = (await second.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse))!;
        Assert.Equal((a.Id, a.Seq, false, true), (b.Id, b.Seq, a.Duplicate, b.Duplicate));
        Assert.Equal(before + 1, await CountAsync());
        var marker = await Server.PublishAsync();
        Assert.Contains($"\"seq\":{a.Seq},", await raw.ExpectTextAsync(), StringComparison.Ordinal);
        Assert.Contains($"\"seq\":{marker},", await raw.ExpectTextAsync(), StringComparison.Ordinal); // not a second copy
    }

    [Fact]
    public async Task Post_Flood_Is429WithRetryAfter_NothingStoredForTheRefused_AndFanOutKeepsItsLatency()
    {
        await using var server = await TestServer.StartAsync("--Limits:IngestPerSecond=5");
        var user = await server.CreateUserAsync(Tier.Starter);
        var (socket, _) = await server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;

        var burstStart = DateTimeOffset.UtcNow.AddMilliseconds(-1); // received_at is in whole milliseconds
        var burst = Stopwatch.StartNew();
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => server.PostSignalAsync(TestServer.NewSignal())));
        var refills = (int)burst.Elapsed.TotalSeconds + 1; // a busy machine stretches the burst over more of them
        var created = new List<long>();
        foreach (var response in responses)
        {
            using var _r = response;
            if (response.StatusCode == HttpStatusCode.Created)
            {
                created.Add((await response.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse))!.Seq);
                continue;
            }
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 carries Retry-After");
        }
        Assert.InRange(created.Count, 5, 5 + 5 * refills); // the bucket's 5, plus 5 for each refill while the burst lasted
        Assert.True(created.Count < 40, "nothing was refused");
        Assert.Equal(created.Count, await CountAsync(server));

        // Exactly the accepted ones were broadcast, each promptly: received during the burst, delivered before the pong.
        var frames = (await socket.DrainUntilPongAsync()).Where(f => f.Type == MessageTypes.Signal).ToList();
        Assert.Equal(created.Order(), frames.Select(f => f.Seq!.Value));
        Assert.All(frames, f => Assert.InRange(f.Signal!.ReceivedAt, burstStart, DateTimeOffset.UtcNow));

        // After the refill, the publisher is served again.
        using var refilled = await Eventually.ResultAsync(async () =>
        {
            var r = await server.PostSignalAsync(TestServer.NewSignal());
            if (r.StatusCode == HttpStatusCode.Created) return r;
            r.Dispose();
            return null;
        }, "the bucket refills");
    }

    // ---- helpers ----

    private async Task<HttpResponseMessage> PostAsync(HttpContent content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = content };
        request.Headers.Add("X-API-Key", TestServer.PublisherKey);
        return await Server.Http.SendAsync(request);
    }

    /// <summary>Runs <paramref name="act"/>; asserts no row was added and a live STARTER socket got no signal frame.</summary>
    private async Task AssertNothingGetsThroughAsync(Func<Task> act)
    {
        var (socket, _) = await Server.ConnectWelcomedAsync(fixture.User.Token);
        await using var _s = socket;
        var before = await CountAsync();
        await act();
        Assert.Equal(before, await CountAsync());
        Assert.DoesNotContain(await socket.DrainUntilPongAsync(), f => f.Type == MessageTypes.Signal);
    }

    private Task<long> CountAsync() => CountAsync(Server);

    internal static async Task<long> CountAsync(TestServer server)
    {
        await using var connection = await server.Get<SqliteDatabase>().OpenAsync(CancellationToken.None);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM signals";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The status of the response, or 0 when the server closed the connection without one.</summary>
    private static async Task<int> ReadResponseHeadAsync(NetworkStream stream)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            while (!text.ToString().Contains("\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0) return 0;
                text.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
        }
        catch (IOException)
        {
            return 0;
        }
        return int.Parse(text.ToString().Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
