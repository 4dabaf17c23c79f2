using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using SignalStream.Client.Delivery;
using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Delivery;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class MessageDispatcherTests
{
    private readonly FakeSignalList _list = new();
    private readonly RecordingSession _session = new();
    private ClientPieces _pieces = new();

    private MessageDispatcher Dispatcher(int pageSize = 500) =>
        new(_pieces.Delivery, new RestCatchUp(_list, _pieces.Resume, _pieces.Delivery, pageSize, _pieces.Log), _pieces.Resume, _pieces.Status, _pieces.Events, _pieces.Log);

    private Task SendAsync(MessageDispatcher dispatcher, string json) =>
        dispatcher.DispatchAsync(WebSocketMessageType.Text, Encoding.UTF8.GetBytes(json), _session, CancellationToken.None);

    private static string Signal(long seq) => JsonSerializer.Serialize(new SignalMessage(seq, FakeSignalServer.MakeSignal(seq)), ProtocolJson.Default.SignalMessage);

    private static string Welcome(long lastSeq, Tier tier = Tier.Starter) =>
        JsonSerializer.Serialize(new WelcomeMessage("c1", "u1", tier, lastSeq, 1000, DateTimeOffset.UnixEpoch), ProtocolJson.Default.WelcomeMessage);

    [Fact]
    public async Task Welcome_OnAFreshStart_ResumesAfterTheServersLastSeq_AndGoesOnline()
    {
        _pieces = new ClientPieces(afterSeq: null);
        var dispatcher = Dispatcher();
        await SendAsync(dispatcher, Welcome(41, Tier.Professional));

        Assert.Equal(41, _pieces.Resume.LastSeq);
        Assert.Equal(41, Assert.Single(_session.Welcomes).LastSeq);
        Assert.Equal(Tier.Professional, _pieces.Status.Tier);
        Assert.Equal(ConnectionState.Connected, _pieces.Status.State);
        Assert.True(_pieces.Status.HasStarted);
    }

    [Fact]
    public async Task Welcome_WithAResumePoint_KeepsIt()
    {
        _pieces = new ClientPieces(afterSeq: 3);
        await SendAsync(Dispatcher(), Welcome(41));
        Assert.Equal(3, _pieces.Resume.LastSeq);
    }

    [Fact]
    public async Task Signals_AreDeliveredOnceInOrder()
    {
        var dispatcher = Dispatcher();
        foreach (var seq in new long[] { 1, 2, 2, 3, 1, 4 })
            await SendAsync(dispatcher, Signal(seq));
        Assert.Equal([1, 2, 3, 4], _pieces.Delivered);
        Assert.Equal(2, _pieces.Log.Count("DuplicateSignal"));
    }

    [Fact]
    public async Task ReplayComplete_ReportsAServerResume()
    {
        var dispatcher = Dispatcher();
        await SendAsync(dispatcher, Signal(5));
        await SendAsync(dispatcher, """{"type":"replay_complete","from_seq":1,"to_seq":5,"count":3}""");
        var resumed = Assert.Single(_pieces.Resumes);
        Assert.Equal((ResumeSource.Replay, 1L, 3, 5L), (resumed.Source, resumed.AfterSeq, resumed.Count, resumed.LastSeq));
    }

    [Fact]
    public async Task ResyncRequired_FetchesTheGapPageByPage_KeepingTheConnectionAlive()
    {
        _list.Add(1, 2, 3, 4, 5);
        var dispatcher = Dispatcher(pageSize: 2);
        await SendAsync(dispatcher, """{"type":"resync_required","reason":"gap","oldest_seq":4}""");

        Assert.Equal([1, 2, 3, 4, 5], _pieces.Delivered);
        Assert.Equal([0L, 2L, 4L], _list.Requests.Select(r => r.AfterSeq!.Value));
        Assert.Equal(3, _session.AliveMarks);
        var resumed = Assert.Single(_pieces.Resumes);
        Assert.Equal((ResumeSource.Rest, 0L, 5, 5L), (resumed.Source, resumed.AfterSeq, resumed.Count, resumed.LastSeq));
    }

    [Theory]
    [InlineData("epoch_changed", "epoch-1", 2)] // the server was reset: another history, already past 2
    [InlineData("ahead_of_history", "epoch-0", 2)] // the same epoch, restored from a backup: history ends before our seq
    public async Task ResyncRequired_ForAnotherHistory_ForgetsThePosition_AndDeliversThatHistoryFromItsStart(string reason, string epoch, long historyLast)
    {
        _pieces = new ClientPieces(afterSeq: 5, epoch: "epoch-0");
        _list.Epoch = epoch;
        _list.Add(1, 2);
        var dispatcher = Dispatcher();
        await SendAsync(dispatcher, $$"""{"type":"resync_required","reason":"{{reason}}","epoch":"{{epoch}}","oldest_seq":1,"last_seq":{{historyLast}}}""");
        await SendAsync(dispatcher, Signal(3)); // live after the resync

        Assert.Equal([1, 2, 3], _pieces.Delivered); // without the reset, 1..3 would be dropped as already seen
        Assert.Equal(epoch, _pieces.Resume.Epoch);
        Assert.Equal(1, _pieces.Log.Count("HistoryChanged"));
    }

    [Fact]
    public async Task Welcome_TeachesTheEpoch_AndResyncInTheSameHistoryKeepsThePosition()
    {
        _pieces = new ClientPieces(afterSeq: 3);
        var dispatcher = Dispatcher();
        await SendAsync(dispatcher, JsonSerializer.Serialize(new WelcomeMessage("c1", "u1", Tier.Starter, 9, 1000, DateTimeOffset.UnixEpoch) { Epoch = "epoch-1" }, ProtocolJson.Default.WelcomeMessage));
        Assert.Equal("epoch-1", _pieces.Resume.Epoch);

        _list.Add(2, 3, 4);
        await SendAsync(dispatcher, """{"type":"resync_required","reason":"history_truncated","epoch":"epoch-1","oldest_seq":2,"last_seq":4}""");
        Assert.Equal([4], _pieces.Delivered);
        Assert.Equal(0, _pieces.Log.Count("HistoryChanged"));
    }

    [Fact]
    public async Task TierChanged_IsAnnounced()
    {
        await SendAsync(Dispatcher(), """{"type":"tier_changed","tier":"INSTITUTIONAL"}""");
        Assert.Equal(Tier.Institutional, _pieces.Status.Tier);
    }

    [Fact]
    public async Task TokenExpiring_IsHandedToTheConnection()
    {
        await SendAsync(Dispatcher(), """{"type":"token_expiring","expires_at":"2030-01-01T00:00:00.000Z"}""");
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), Assert.Single(_session.TokenWarnings));
    }

    [Fact]
    public async Task UnreadableFrames_AreLoggedAndSkipped()
    {
        var dispatcher = Dispatcher();
        await dispatcher.DispatchAsync(WebSocketMessageType.Binary, new byte[] { 1, 2 }, _session, CancellationToken.None);
        await SendAsync(dispatcher, "not json");
        await SendAsync(dispatcher, """{"type":"signal","seq":1}""");
        await SendAsync(dispatcher, """{"type":"from_the_future"}""");
        await SendAsync(dispatcher, """{"type":"error","code":"rate_limited","message":"slow down"}""");
        await SendAsync(dispatcher, """{"type":"pong","ts":1}""");

        Assert.Empty(_pieces.Delivered);
        Assert.Equal(3, _pieces.Log.Count("InvalidFrame"));
        Assert.Equal(1, _pieces.Log.Count("UnknownFrame"));
        Assert.Equal(1, _pieces.Log.Count("ServerError"));
        Assert.Empty(_session.Welcomes);
    }
}
