using System.Globalization;
using System.Net;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Observability;

/// <summary>
/// SECURITY.md, "<c>/ws/stats</c> anonymous or as a user": refused unless configured public, and
/// never user ids, addresses or tokens; and issue 3's metrics. Every test server in this process
/// shares prometheus-net's one registry, so metrics are asserted as increases, never absolutes.
/// </summary>
[Trait("Kind", "Security")]
public sealed class ObservabilityTests(ObservabilityTests.Fixture fixture) : IClassFixture<ObservabilityTests.Fixture>
{
    public sealed class Fixture() : ServerFixture();

    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Stats_AnonymousOrWithAnyCredentialButTheAdminKey_Is401()
    {
        using (var anonymous = await Server.Http.GetAsync(Paths.Stats)) AssertProblem(HttpStatusCode.Unauthorized, anonymous);
        using (var request = TestServer.UserRequest(HttpMethod.Get, Paths.Stats, fixture.User.Token))
        using (var asUser = await Server.Http.SendAsync(request))
            AssertProblem(HttpStatusCode.Unauthorized, asUser);
        foreach (var key in new[] { TestServer.PublisherKey, "wrong-admin-key-0123456789", "" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Paths.Stats);
            request.Headers.TryAddWithoutValidation("X-API-Key", key);
            using var response = await Server.Http.SendAsync(request);
            AssertProblem(HttpStatusCode.Unauthorized, response);
        }
        using (var inQuery = await Server.Http.GetAsync($"{Paths.Stats}?api_key={TestServer.AdminKey}")) AssertProblem(HttpStatusCode.Unauthorized, inQuery);
    }

    [Fact]
    public async Task Stats_AsAdmin_AreCountsOnly_NoIdsNamesAddressesOrTokens()
    {
        var pro = await Server.CreateUserAsync(Tier.Professional);
        var (a, _) = await Server.ConnectWelcomedAsync(pro.Token);
        var (b, _) = await Server.ConnectWelcomedAsync(fixture.User.Token);
        await using var _a = a;
        await using var _b = b;

        using var request = TestServer.AdminRequest(HttpMethod.Get, Paths.Stats);
        using var response = await Server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var stats = System.Text.Json.JsonSerializer.Deserialize(text, ProtocolJson.Default.StatsResponse)!;
        Assert.True(stats.TotalConnections >= 2);
        Assert.True(stats.UsersByTier["PROFESSIONAL"] >= 1);
        foreach (var secret in new[] { pro.Id, pro.Username, pro.Token, fixture.User.Id, fixture.User.Username, fixture.User.Token, "127.0.0.1", a.Received[0].ConnectionId! })
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_ConfiguredPublic_AnswersAnonymously_StillCountsOnly()
    {
        await using var server = await TestServer.StartAsync("--Observability:PublicStats=true");
        var user = await server.CreateUserAsync(Tier.Institutional);
        var (socket, _) = await server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;
        using var response = await server.Http.GetAsync(Paths.Stats);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(1, System.Text.Json.JsonSerializer.Deserialize(text, ProtocolJson.Default.StatsResponse)!.UsersByTier["INSTITUTIONAL"]);
        Assert.DoesNotContain(user.Id, text, StringComparison.Ordinal);
        Assert.DoesNotContain(user.Username, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_CountConnectionsDeliveriesLatencyAndDisconnectsByCode()
    {
        var before = await ScrapeAsync(Server);
        var (socket, _) = await Server.ConnectWelcomedAsync(fixture.User.Token);
        var seq = await Server.PublishAsync();
        Assert.Equal(seq, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);
        await using (var refused = await Server.ConnectRawAsync()) Assert.Equal(401, refused.Status);

        // A connection closed 4501, to see it counted by its code.
        var (bad, _) = await Server.ConnectWelcomedAsync(fixture.User.Token);
        for (var i = 0; i < 5; i++) await bad.SendTextAsync("{nope");
        Assert.Equal(CloseCodes.TooManyBadFrames, await bad.ExpectCloseAsync());
        await bad.DisposeAsync();

        var after = await Eventually.ResultAsync(async () =>
        {
            var scrape = await ScrapeAsync(Server);
            return Sum(scrape, "signalstream_disconnects_total", "code=\"4501\"") > Sum(before, "signalstream_disconnects_total", "code=\"4501\"") ? scrape : null;
        }, "the 4501 disconnect is counted");

        Assert.Contains("# TYPE signalstream_connections gauge", after, StringComparison.Ordinal);
        Assert.Contains("signalstream_connections{tier=\"STARTER\"}", after, StringComparison.Ordinal);
        Assert.Contains("signalstream_connections{tier=\"INSTITUTIONAL\"}", after, StringComparison.Ordinal);
        Assert.True(Sum(after, "signalstream_connects_total") >= Sum(before, "signalstream_connects_total") + 2);
        Assert.True(Sum(after, "signalstream_deliveries_total") >= Sum(before, "signalstream_deliveries_total") + 1);
        Assert.True(Sum(after, "signalstream_signals_ingested_total", "result=\"created\"") >= Sum(before, "signalstream_signals_ingested_total", "result=\"created\"") + 1);
        Assert.True(Sum(after, "signalstream_upgrades_refused_total", "status=\"401\"") >= Sum(before, "signalstream_upgrades_refused_total", "status=\"401\"") + 1);
        Assert.True(Sum(after, "signalstream_delivery_latency_seconds_count") >= Sum(before, "signalstream_delivery_latency_seconds_count") + 1);
        Assert.Contains("signalstream_delivery_latency_seconds_bucket{le=\"0.5\"}", after, StringComparison.Ordinal);
        Assert.Contains("signalstream_delivery_latency_seconds_bucket{le=\"+Inf\"}", after, StringComparison.Ordinal);
        Assert.Contains("signalstream_outbound_queue_depth", after, StringComparison.Ordinal);
        Assert.Contains("signalstream_drops_total", after, StringComparison.Ordinal);
        await socket.DisposeAsync();
    }

    [Fact]
    public async Task Metrics_ConfiguredPrivate_NeedTheAdminKey()
    {
        await using var server = await TestServer.StartAsync("--Observability:PublicMetrics=false");
        using (var anonymous = await server.Http.GetAsync("/metrics")) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var request = TestServer.AdminRequest(HttpMethod.Get, "/metrics");
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
    }

    internal static async Task<string> ScrapeAsync(TestServer server)
    {
        using var response = await server.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The sum of a metric's samples whose labels contain <paramref name="label"/>.</summary>
    internal static double Sum(string scrape, string name, string label = "") =>
        scrape.Split('\n')
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length == name.Length || l[name.Length] is ' ' or '{') && l.Contains(label, StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    private static void AssertProblem(HttpStatusCode expected, HttpResponseMessage response)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
