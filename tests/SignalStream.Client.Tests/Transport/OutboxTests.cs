using System.Net.WebSockets;
using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Client.Transport;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Transport;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class OutboxTests
{
    private readonly TestLogger _log = new();

    private static ClientMessage Subscribe(string symbol) => new() { Type = MessageTypes.Subscribe, Symbols = [symbol] };

    [Fact]
    public async Task Offline_MessagesWait_ThenGoOutInOrderWhenOnline_AndStraightOutAfter()
    {
        var outbox = new Outbox(10, _log);
        await outbox.SendOrQueueAsync(Subscribe("A"), CancellationToken.None);
        await outbox.SendOrQueueAsync(Subscribe("B"), CancellationToken.None);
        Assert.Equal(2, outbox.QueuedCount);

        var ws = new FakeWebSocket();
        await outbox.GoOnlineAsync(ws, CancellationToken.None);
        Assert.Equal(0, outbox.QueuedCount);
        await outbox.SendOrQueueAsync(Subscribe("C"), CancellationToken.None);

        Assert.Equal(["[\"A\"]", "[\"B\"]", "[\"C\"]"], ws.Sent.Select(f => System.Text.Json.JsonDocument.Parse(f).RootElement.GetProperty("symbols").GetRawText()));
        Assert.Equal(1, _log.Count("OfflineQueueFlushed"));
    }

    [Fact]
    public async Task GoOffline_QueuesAgain()
    {
        var outbox = new Outbox(10, _log);
        var ws = new FakeWebSocket();
        await outbox.GoOnlineAsync(ws, CancellationToken.None);
        outbox.GoOffline();
        await outbox.SendOrQueueAsync(Subscribe("A"), CancellationToken.None);
        Assert.Empty(ws.Sent);
        Assert.Equal(1, outbox.QueuedCount);
    }

    [Fact]
    public async Task SendFailsWhileGoingDown_TheMessageWaitsForTheNextConnection()
    {
        var outbox = new Outbox(10, _log);
        var dying = new FakeWebSocket();
        await outbox.GoOnlineAsync(dying, CancellationToken.None);
        dying.FailSends = true;
        await outbox.SendOrQueueAsync(Subscribe("A"), CancellationToken.None);
        Assert.Equal(1, outbox.QueuedCount);

        var next = new FakeWebSocket();
        await outbox.GoOnlineAsync(next, CancellationToken.None);
        Assert.Single(next.Sent);
    }

    [Fact]
    public async Task Full_DropsTheOldestAndLogs()
    {
        var outbox = new Outbox(1, _log);
        await outbox.SendOrQueueAsync(Subscribe("A"), CancellationToken.None);
        await outbox.SendOrQueueAsync(Subscribe("B"), CancellationToken.None);
        Assert.Equal(1, outbox.QueuedCount);
        Assert.Equal(1, _log.Count("OfflineQueueOverflow"));
    }

    [Fact]
    public async Task SendNowAsync_GoesToItsOwnSocketOnly_AndNowhereOnceItIsClosing()
    {
        var outbox = new Outbox(10, _log);
        var ws = new FakeWebSocket();
        await outbox.SendNowAsync(ws, new ClientMessage { Type = MessageTypes.Ping, Ts = 1 }, CancellationToken.None);
        Assert.Equal(["ping"], ws.SentTypes);
        Assert.Equal(0, outbox.QueuedCount);

        await outbox.CloseAsync(ws, WebSocketCloseStatus.NormalClosure, "bye");
        Assert.Equal(WebSocketCloseStatus.NormalClosure, ws.ClosedWith);
        await outbox.SendNowAsync(ws, new ClientMessage { Type = MessageTypes.Ping, Ts = 2 }, CancellationToken.None);
        Assert.Single(ws.Sent);
    }
}
