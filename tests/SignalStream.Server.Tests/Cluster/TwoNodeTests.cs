using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Protocol;
using SignalStream.Server.Cluster;
using SignalStream.Server.Fanout;
using SignalStream.Server.Tests.Infrastructure;
using StackExchange.Redis;

namespace SignalStream.Server.Tests.Cluster;

/// <summary>Two in-process nodes sharing a real PostgreSQL database and a real Redis.</summary>
[Trait("Kind", "ScaleOut")]
public sealed class TwoNodeTests : IAsyncLifetime
{
    private TestServer _a = null!;
    private TestServer _b = null!;
    private string[] _shared = [];

    public async Task InitializeAsync()
    {
        var database = await Postgres.CreateDatabaseAsync();
        string[] shared = _shared =
        [
            "--Storage:Provider=postgres", $"--Storage:ConnectionString={database}",
            "--Backplane:Provider=redis", $"--Backplane:ConnectionString={Postgres.RedisEndpoint}",
            "--Limits:ConnectionsPerUser=2",
        ];
        _a = await TestServer.StartAsync([.. shared, "--Cluster:NodeId=node-a-" + Guid.NewGuid().ToString("N")[..6]]);
        _b = await TestServer.StartAsync([.. shared, "--Cluster:NodeId=node-b-" + Guid.NewGuid().ToString("N")[..6]]);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    [Fact]
    public async Task Ingest_OnBothNodes_EveryClientOnEveryNodeSeesOneOrderGapFree()
    {
        var user = await _a.CreateUserAsync(Tier.Institutional);
        var onA = (await _a.ConnectWelcomedAsync(user.Token)).Socket;
        var onB = (await _b.ConnectWelcomedAsync(user.Token)).Socket;
        await using var _1 = onA;
        await using var _2 = onB;

        var published = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? _a : _b).PublishAsync()));
        foreach (var socket in new[] { onA, onB })
        {
            var seqs = (await socket.ReceiveSignalsAsync(published.Length)).Select(f => f.Seq!.Value).ToList();
            Assert.Equal(published.Order(), seqs);
        }
    }

    [Fact]
    public async Task TierChange_ThroughOneNode_ReachesConnectionOnTheOtherWithinASecond()
    {
        // "Within a second" of the nodes' time: a clock of their own, which moves only when the test says.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var a = await TestServer.StartAsync(clock, [.. _shared, "--Cluster:NodeId=node-a-" + Guid.NewGuid().ToString("N")[..6]]);
        await using var b = await TestServer.StartAsync(clock, [.. _shared, "--Cluster:NodeId=node-b-" + Guid.NewGuid().ToString("N")[..6]]);
        var user = await a.CreateUserAsync(Tier.Starter);
        var (socket, _) = await b.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;
        (await a.UpdateUserAsync(user.Id, new { tier = "PROFESSIONAL" })).Dispose();
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Tier.Professional, (await socket.ExpectAsync(MessageTypes.TierChanged)).Tier);
        (await a.UpdateUserAsync(user.Id, new { disabled = true })).Dispose();
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CloseCodes.UserDisabled, await socket.ExpectCloseAsync());
    }

    [Fact]
    public async Task ConnectionLimit_CountsConnectionsOnAllNodes()
    {
        var user = await _a.CreateUserAsync(Tier.Starter);
        var one = (await _a.ConnectWelcomedAsync(user.Token)).Socket;
        var two = (await _b.ConnectWelcomedAsync(user.Token)).Socket;
        await using var _1 = one;
        var (status, _) = await _a.TryUpgradeAsync(bearer: user.Token);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);

        await two.DisposeAsync();
        // The slot frees when node B has released it; await that rather than guess a delay.
        await Eventually.TrueAsync(async () => (await _a.TryUpgradeAsync(bearer: user.Token)).Status == HttpStatusCode.SwitchingProtocols, "node B's slot to be freed");
    }

    [Fact]
    public async Task Ticket_IssuedByOneNode_IsRedeemedOnceOnTheOther()
    {
        var user = await _a.CreateUserAsync(Tier.Starter);
        using var request = TestServer.UserRequest(HttpMethod.Post, Paths.WsTicket, user.Token);
        using var response = await _a.Http.SendAsync(request);
        var ticket = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.TicketResponse))!.Ticket;
        Assert.Equal(HttpStatusCode.SwitchingProtocols, (await _b.TryUpgradeAsync($"ticket={ticket}")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _a.TryUpgradeAsync($"ticket={ticket}")).Status);
    }

    [Fact]
    public async Task Stats_ReportTheWholeDeploymentAndEachNode()
    {
        var user = await _a.CreateUserAsync(Tier.Professional);
        var onA = (await _a.ConnectWelcomedAsync(user.Token)).Socket;
        var onB = (await _b.ConnectWelcomedAsync(user.Token)).Socket;
        await using var _1 = onA;
        await using var _2 = onB;

        // Each node reports itself on its heartbeat (every second); wait for both reports to include the connection.
        var stats = await Eventually.ResultAsync(async () =>
        {
            using var response = await _a.Http.SendAsync(TestServer.AdminRequest(HttpMethod.Get, Paths.Stats));
            var reported = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.StatsResponse))!;
            return (reported.Nodes?.Count(n => n.TotalConnections > 0) ?? 0) >= 2 ? reported : null;
        }, "both nodes to report the connection");
        Assert.True(stats.TotalConnections >= 2);
        Assert.True(stats.Nodes!.Count >= 2);
        Assert.True(stats.UsersByTier["PROFESSIONAL"] >= 1);
    }

    [Fact]
    public async Task NodeStopped_WithConnectionsOpen_LeavesNothingOfItselfInRedis()
    {
        var node = "node-c-" + Guid.NewGuid().ToString("N")[..6];
        var c = await TestServer.StartAsync([.. _shared, "--Cluster:NodeId=" + node]);
        var user = await c.CreateUserAsync(Tier.Starter);
        var sockets = new List<TestSocket>();
        for (var i = 0; i < 2; i++) sockets.Add((await c.ConnectWelcomedAsync(user.Token)).Socket);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Postgres.RedisEndpoint);
        var db = redis.GetDatabase();
        await Eventually.TrueAsync(async () => await db.HashGetAsync(RedisKeys.Connections(node), user.Id) == 2, "both connections counted in Redis");

        await c.DisposeAsync(); // a graceful stop: 1001 to every socket, then the hosted services stop
        foreach (var socket in sockets) await socket.DisposeAsync();

        Assert.False(await db.KeyExistsAsync(RedisKeys.Connections(node)), "its connection counts");
        Assert.False(await db.KeyExistsAsync(RedisKeys.Heartbeat(node)), "its heartbeat");
        Assert.False(await db.SetContainsAsync(RedisKeys.Nodes, node), "its place in the node set");
        Assert.False(await db.HashExistsAsync(RedisKeys.Stats, node), "its stats");
    }

    [Fact]
    public async Task ConnectionEndingAfterItsNodeLeftRedis_DoesNotWriteItBack()
    {
        var node = "node-d-" + Guid.NewGuid().ToString("N")[..6];
        await using var d = await TestServer.StartAsync([.. _shared, "--Cluster:NodeId=" + node]);
        var user = await d.CreateUserAsync(Tier.Starter);
        var (socket, _) = await d.ConnectWelcomedAsync(user.Token);
        var redis = d.Get<RedisConnection>().Database;
        await Eventually.TrueAsync(async () => await redis.HashGetAsync(RedisKeys.Connections(node), user.Id) == 1, "the connection counted in Redis");

        // The node leaves Redis (as at the end of a shutdown) while a connection is still open; then it ends.
        await d.Get<ClusterPresence>().StopAsync(CancellationToken.None);
        await socket.DisposeAsync();
        await Eventually.TrueAsync(() => d.Get<ConnectionHub>().Count == 0, "the connection ended");
        await redis.PingAsync(); // the node's own connection: anything it sent before is done

        Assert.False(await redis.KeyExistsAsync(RedisKeys.Connections(node)), "no counts written back for a node that left");
    }
}
