using System.Net;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Streaming;

[Trait("Kind", "Functional")]
public sealed class StreamTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Connect_WithToken_WelcomeComesFirstWithUserTierAndLastSeq()
    {
        var seq = await _server.PublishAsync();
        var user = await _server.CreateUserAsync(Tier.Professional);
        await using var socket = await _server.ConnectAsync(user.Token);

        var first = await socket.ReceiveAsync();
        Assert.Equal(MessageTypes.Welcome, first!.Type);
        Assert.Equal(user.Id, first.UserId);
        Assert.Equal(Tier.Professional, first.Tier);
        Assert.True(first.LastSeq >= seq);
        Assert.True(first.HeartbeatMs > 0);
        Assert.False(string.IsNullOrEmpty(first.ConnectionId));
        Assert.NotNull(first.ServerTime);
    }

    [Theory]
    [InlineData("token")]
    [InlineData("ticket")]
    [InlineData("header")]
    public async Task Connect_EachWayOfAuthenticating_IsWelcomed(string how)
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        TestSocket socket;
        if (how == "header") socket = await _server.ConnectAsync(user.Token);
        else
        {
            var credential = how == "token" ? user.Token : await TicketAsync(user.Token);
            var raw = new System.Net.WebSockets.ClientWebSocket();
            await raw.ConnectAsync(_server.WsUri($"{how}={Uri.EscapeDataString(credential)}"), CancellationToken.None);
            socket = new TestSocket(raw);
        }
        await using var _ = socket;
        Assert.Equal(user.Id, (await socket.ExpectAsync(MessageTypes.Welcome)).UserId);
    }

    [Fact]
    public async Task Broadcast_EachTierSeesExactlyItsVisibleSet_InSeqOrder()
    {
        var users = new[] { await _server.CreateUserAsync(Tier.Starter), await _server.CreateUserAsync(Tier.Professional), await _server.CreateUserAsync(Tier.Institutional) };
        var sockets = new List<TestSocket>();
        foreach (var user in users) sockets.Add((await _server.ConnectWelcomedAsync(user.Token)).Socket);

        var published = new List<(long Seq, Tier MinTier)>();
        foreach (var tier in new[] { Tier.Starter, Tier.Professional, Tier.Institutional, Tier.Starter, Tier.Institutional, Tier.Professional })
            published.Add((await _server.PublishAsync(minTier: tier), tier));
        using (var premiumFlag = await _server.PostSignalAsync(TestServer.NewSignal(premium: true)))
            Assert.Equal(HttpStatusCode.Created, premiumFlag.StatusCode);

        for (var i = 0; i < users.Length; i++)
        {
            var frames = await sockets[i].DrainUntilPongAsync();
            var seqs = frames.Where(f => f.Type == MessageTypes.Signal).Select(f => f.Seq!.Value).ToList();
            var expected = published.Where(p => TierRule.CanSee(users[i].Tier, p.MinTier)).Select(p => p.Seq).ToList();
            if (users[i].Tier >= Tier.Professional) expected.Add(published[^1].Seq + 1); // the premium: true one
            Assert.Equal(expected, seqs);
            Assert.All(frames.Where(f => f.Signal is not null), f => Assert.True(TierRule.CanSee(users[i].Tier, f.Signal!.MinTier)));
            await sockets[i].DisposeAsync();
        }
    }

    [Fact]
    public async Task Symbols_QueryFilterThenSubscribe_ReplaceTheFilter()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token, "symbols=BTC-USD,eth-usd");
        await using var _s = socket;

        var btc = await _server.PublishAsync("BTC-USD");
        await _server.PublishAsync("SOL-USD");
        var eth = await _server.PublishAsync("ETH-USD");
        Assert.Equal([btc, eth], (await socket.DrainUntilPongAsync()).Select(f => f.Seq!.Value));

        await socket.SendAsync(new { type = "subscribe", symbols = new[] { "SOL-USD" } });
        await socket.DrainUntilPongAsync(); // the subscribe is applied before the pong
        await _server.PublishAsync("BTC-USD");
        var sol = await _server.PublishAsync("SOL-USD");
        Assert.Equal([sol], (await socket.DrainUntilPongAsync()).Select(f => f.Seq!.Value));

        await socket.SendAsync(new { type = "subscribe", symbols = Array.Empty<string>() });
        await socket.DrainUntilPongAsync();
        var any = await _server.PublishAsync("AAPL");
        Assert.Equal([any], (await socket.DrainUntilPongAsync()).Select(f => f.Seq!.Value));
    }

    [Fact]
    public async Task Ping_IsAnsweredWithPongEchoingTs()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;
        await socket.SendAsync(new { type = "ping", ts = 1732550400123 });
        Assert.Equal(1732550400123, (await socket.ExpectAsync(MessageTypes.Pong)).Ts);
    }

    [Fact]
    public async Task AfterSeq_ReplaysVisibleHistoryThenReplayCompleteThenLive()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var start = await _server.PublishAsync();
        var history = new List<long>();
        for (var i = 0; i < 5; i++) history.Add(await _server.PublishAsync(minTier: i % 2 == 0 ? Tier.Starter : Tier.Institutional));

        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token, $"after_seq={start}");
        await using var _s = socket;
        var replayed = new List<long>();
        ServerMessage frame;
        while ((frame = (await socket.ReceiveAsync())!).Type == MessageTypes.Signal) replayed.Add(frame.Seq!.Value);
        Assert.Equal(MessageTypes.ReplayComplete, frame.Type);
        Assert.Equal(new[] { history[0], history[2], history[4] }, replayed);
        Assert.Equal(start, frame.FromSeq);
        Assert.Equal(3, frame.Count);

        var live = await _server.PublishAsync();
        Assert.Equal(live, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);
    }

    [Fact]
    public async Task AfterSeq_WhilePublishing_IsGapFreeAndDuplicateFree()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var start = await _server.PublishAsync();
        for (var i = 0; i < 300; i++) await _server.PublishAsync();

        // Publish concurrently with the connect + replay.
        using var stop = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            var seqs = new List<long>();
            for (var i = 0; i < 200 && !stop.IsCancellationRequested; i++) seqs.Add(await _server.PublishAsync());
            return seqs;
        });
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token, $"after_seq={start}");
        await using var _s = socket;
        var published = await publisher;

        var received = (await socket.DrainUntilPongAsync()).Where(f => f.Type == MessageTypes.Signal).Select(f => f.Seq!.Value).ToList();
        Assert.Equal(received.Distinct().Count(), received.Count);
        Assert.Equal(received.Order(), received);
        Assert.Equal(start + 1, received[0]);
        Assert.Equal(published[^1], received[^1]);
        Assert.Equal(received[^1] - start, received.Count); // no gap
    }

    [Fact]
    public async Task Resume_MidStream_ReplaysAfterTheGivenSeq()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var a = await _server.PublishAsync();
        var b = await _server.PublishAsync();
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token); // live from b: it got neither
        await using var _s = socket;

        await socket.SendAsync(new { type = "resume", after_seq = a });
        Assert.Equal(b, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);
        var complete = await socket.ExpectAsync(MessageTypes.ReplayComplete);
        Assert.Equal(1, complete.Count);
        var c = await _server.PublishAsync();
        Assert.Equal(c, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);
    }

    [Fact]
    public async Task Client_ErrorFrames_ForFramesItCannotUse_SocketStaysOpen()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        var (socket, _) = await _server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;

        await socket.SendTextAsync("{not json");
        Assert.Equal(ErrorCodes.InvalidJson, (await socket.ExpectAsync(MessageTypes.Error)).Code);
        await socket.SendAsync(new { type = "teleport" });
        Assert.Equal(ErrorCodes.UnknownType, (await socket.ExpectAsync(MessageTypes.Error)).Code);
        await socket.SendAsync(new { type = "resume" });
        Assert.Equal(ErrorCodes.InvalidField, (await socket.ExpectAsync(MessageTypes.Error)).Code);
        await socket.SendAsync(new { type = "subscribe", symbols = new[] { "<script>" } });
        Assert.Equal(ErrorCodes.InvalidField, (await socket.ExpectAsync(MessageTypes.Error)).Code);

        await socket.SendAsync(new { type = "ping", ts = 7 });
        Assert.Equal(7, (await socket.ExpectAsync(MessageTypes.Pong)).Ts);
    }

    [Fact]
    public async Task TierChange_WhileConnected_SendsTierChangedAndFollowsTheNewTierWithinASecond()
    {
        // "Within a second" of the server's time: its clock moves only when the test says.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(clock);
        var user = await server.CreateUserAsync(Tier.Starter);
        var (socket, _) = await server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;

        using (var up = await server.UpdateUserAsync(user.Id, new { tier = "INSTITUTIONAL" })) Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        clock.Advance(TimeSpan.FromSeconds(1));
        var changed = await socket.ExpectAsync(MessageTypes.TierChanged);
        Assert.Equal(Tier.Institutional, changed.Tier);
        var premium = await server.PublishAsync(minTier: Tier.Institutional);
        Assert.Equal(premium, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);

        using (var down = await server.UpdateUserAsync(user.Id, new { tier = "STARTER" })) Assert.Equal(HttpStatusCode.OK, down.StatusCode);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Tier.Starter, (await socket.ExpectAsync(MessageTypes.TierChanged)).Tier);
        await server.PublishAsync(minTier: Tier.Professional);
        var open = await server.PublishAsync();
        var frames = await socket.DrainUntilPongAsync();
        Assert.Equal([open], frames.Where(f => f.Type == MessageTypes.Signal).Select(f => f.Seq!.Value));
    }

    [Fact]
    public async Task Disable_WhileConnected_ClosesEveryConnection4503WithinASecond_AndReconnectIsRefused()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(clock);
        var user = await server.CreateUserAsync(Tier.Professional);
        var first = (await server.ConnectWelcomedAsync(user.Token)).Socket;
        var second = (await server.ConnectWelcomedAsync(user.Token)).Socket;
        await using var _a = first;
        await using var _b = second;

        using (var response = await server.UpdateUserAsync(user.Id, new { disabled = true })) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CloseCodes.UserDisabled, await first.ExpectCloseAsync());
        Assert.Equal(CloseCodes.UserDisabled, await second.ExpectCloseAsync());

        var (status, _) = await server.TryUpgradeAsync(bearer: user.Token);
        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task AfterSeq_OlderThanHistory_SendsResyncRequiredThenWhatHistoryHas()
    {
        await using var server = await TestServer.StartAsync("--Storage:HistoryLimit=3");
        var user = await server.CreateUserAsync(Tier.Starter);
        var seqs = new List<long>();
        for (var i = 0; i < 6; i++) seqs.Add(await server.PublishAsync());

        var (socket, _) = await server.ConnectWelcomedAsync(user.Token, "after_seq=0");
        await using var _s = socket;
        var resync = await socket.ReceiveAsync();
        Assert.Equal(MessageTypes.ResyncRequired, resync!.Type);
        Assert.Equal(seqs[3], resync.OldestSeq);
        Assert.Equal(seqs[3..], (await socket.ReceiveSignalsAsync(3)).Select(f => f.Seq!.Value));
        await socket.ExpectAsync(MessageTypes.ReplayComplete);
    }

    private async Task<string> TicketAsync(string token)
    {
        using var request = TestServer.UserRequest(HttpMethod.Post, Paths.WsTicket, token);
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ticket = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync(response.Content, ProtocolJson.Default.TicketResponse))!;
        Assert.Equal(30, ticket.ExpiresIn);
        return ticket.Ticket;
    }
}
