using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using SignalStream.Server.Tests.Infrastructure;
using SignalStream.Server.Transport;

namespace SignalStream.Server.Tests.Fanout;

/// <summary>
/// The sender of one connection, against a socket whose writes the test completes by hand: an idle
/// socket is written at once, a busy one queues, and the write that completes drains the queue;
/// on our own WebSocket, several queued frames go out in one write.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class StreamConnectionSenderTests
{
    private static OutboundFrame Frame(long seq) => new(Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}"), seq);

    private static (StreamConnection Connection, ScriptedSocket Socket) Live(int queue = 16)
    {
        var connection = new StreamConnection("user", new ConnectionFilter(Tier.Starter, null), DateTimeOffset.UtcNow.AddHours(1), queue, 16, new ServerMetrics());
        var socket = new ScriptedSocket();
        connection.Attach(socket);
        connection.GoLive(0);
        return (connection, socket);
    }

    [Fact]
    public void IdleSocket_IsWrittenAtOnce_OnTheCallersThread()
    {
        var (connection, socket) = Live();
        connection.Offer(Frame(1));
        Assert.Equal(["{\"seq\":1}"], socket.Written);
        Assert.Equal(0, connection.QueueDepth);
    }

    [Fact]
    public async Task OnOurOwnWebSocket_ARunOfSignals_WaitsForItsLastOffer_ThenGoesOutInOrder_EvenWhenTheLastIsNotForThisClient()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        var accept = listener.AcceptSocketAsync();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var serverSocket = await accept;
        using var webSocket = new PipeWebSocket(StreamPipe.Over(serverSocket), new KeepAlive(TimeSpan.FromHours(1), TimeSpan.FromHours(1)), serverSocket);
        var connection = new StreamConnection("user", new ConnectionFilter(Tier.Starter, null), DateTimeOffset.UtcNow.AddHours(1), 16, 16, new ServerMetrics());
        connection.Attach(webSocket);
        connection.GoLive(0);

        for (var seq = 1; seq <= 3; seq++) Assert.Equal(OfferResult.Queued, connection.Offer(Frame(seq), send: false));
        Assert.Equal(3, connection.QueueDepth); // held for the run's last offer
        Assert.Equal(OfferResult.Filtered, connection.Offer(new OutboundFrame("{}"u8, 4, Tier.Institutional), send: true));
        Assert.Equal(0, connection.QueueDepth);

        // The three frames arrived, in order, each its own message, byte for byte as built.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var expected = Enumerable.Range(1, 3).SelectMany(seq => new OutboundFrame(Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}")).WebSocketFrame.ToArray()).ToArray();
        var received = new byte[expected.Length];
        await client.GetStream().ReadExactlyAsync(received, timeout.Token);
        Assert.Equal(expected, received);
    }

    [Fact]
    public void Heartbeat_GoesToTheTransport_UntilDetached()
    {
        var connection = new StreamConnection("user", new ConnectionFilter(Tier.Starter, null), DateTimeOffset.UtcNow.AddHours(1), 16, 16, new ServerMetrics());
        var transport = new FakeTransport();
        connection.Attach(new ScriptedSocket(), transport);
        connection.Heartbeat(TimeProvider.System);
        Assert.Equal(1, transport.Heartbeats);

        connection.Detach();
        connection.Heartbeat(TimeProvider.System);
        Assert.Equal(1, transport.Heartbeats);
    }

    [Fact]
    public async Task BusySocket_Queues_ThenTheCompletedWriteDrainsInOrder()
    {
        var (connection, socket) = Live();
        var stuck = socket.HoldNextWrite();
        connection.Offer(Frame(1));
        connection.Offer(Frame(2));
        connection.Send(Frame(0)); // a control frame keeps its place in line
        connection.Offer(Frame(3));
        Assert.Equal(3, connection.QueueDepth);
        Assert.Equal(["{\"seq\":1}"], socket.Written);

        stuck.SetResult();
        await Eventually.TrueAsync(() => connection.QueueDepth == 0 && socket.Written.Count == 4, "the queue drains");
        Assert.Equal(["{\"seq\":1}", "{\"seq\":2}", "{\"seq\":0}", "{\"seq\":3}"], socket.Written);
    }

    [Fact]
    public async Task Replay_GoesOutWithTheNextFrameSent_NotAWriteEach_AndAFullQueueIsSentToMakeRoom()
    {
        var connection = new StreamConnection("user", new ConnectionFilter(Tier.Starter, null), DateTimeOffset.UtcNow.AddHours(1), 3, 16, new ServerMetrics());
        var socket = new ScriptedSocket();
        connection.Attach(socket);
        connection.HoldLive();
        connection.Send(Frame(0), flush: false); // the welcome, waiting for its replay
        Assert.True(await connection.SendReplayAsync(Frame(1), default));
        Assert.True(await connection.SendReplayAsync(Frame(2), default));
        Assert.Empty(socket.Written);

        var stuck = socket.HoldNextWrite();
        var third = connection.SendReplayAsync(Frame(3), default).AsTask(); // the queue is full: it is sent, and the replay waits for room
        Assert.False(third.IsCompleted);
        Assert.Equal(["{\"seq\":0}"], socket.Written);
        stuck.SetResult();
        Assert.True(await third.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(["{\"seq\":0}", "{\"seq\":1}", "{\"seq\":2}"], socket.Written);

        connection.Send(Frame(4)); // replay_complete: sends what the replay queued
        connection.GoLive(3);
        Assert.Equal(["{\"seq\":0}", "{\"seq\":1}", "{\"seq\":2}", "{\"seq\":3}", "{\"seq\":4}"], socket.Written);
    }

    [Fact]
    public async Task BusySocket_OverflowingItsQueue_ClosesSlowConsumer_AfterTheStuckWrite()
    {
        var (connection, socket) = Live(queue: 2);
        var stuck = socket.HoldNextWrite();
        for (var seq = 1; seq <= 4; seq++) connection.Offer(Frame(seq));
        Assert.Equal(CloseCodes.SlowConsumer, connection.CloseCode);
        Assert.Equal(0, connection.QueueDepth); // dropped: the slow consumer resumes from its last seq
        Assert.Null(socket.CloseSent);

        stuck.SetResult();
        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((WebSocketCloseStatus)CloseCodes.SlowConsumer, socket.CloseSent);
        Assert.Equal(["{\"seq\":1}"], socket.Written);
    }

    [Fact]
    public async Task DrainingClose_SendsEverythingQueuedFirst()
    {
        var (connection, socket) = Live();
        var stuck = socket.HoldNextWrite();
        connection.Offer(Frame(1));
        connection.Offer(Frame(2));
        connection.RequestClose(CloseCodes.GoingAway, "bye", drain: true);
        connection.Offer(Frame(3)); // after the close request: never sent
        stuck.SetResult();
        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["{\"seq\":1}", "{\"seq\":2}"], socket.Written);
        Assert.Equal((WebSocketCloseStatus)CloseCodes.GoingAway, socket.CloseSent);
    }

    [Fact]
    public async Task FailedWrite_EndsTheConnection_AndCompletesClosed()
    {
        var (connection, socket) = Live();
        var stuck = socket.HoldNextWrite();
        connection.Offer(Frame(1));
        connection.Offer(Frame(2));
        stuck.SetException(new WebSocketException(WebSocketError.ConnectionClosedPrematurely));
        await connection.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(CloseCodes.InternalError, connection.CloseCode);
        Assert.True(socket.Aborted);
        Assert.Equal(0, connection.QueueDepth);
    }

    [Fact]
    public async Task WriteStuckPastTheCloseTimeout_AbortsTheTransport_WhichIsTouchedNoMoreOnceDetached()
    {
        var (connection, socket) = Live();
        var transport = new FakeTransport();
        connection.Attach(socket, transport);
        socket.HoldNextWrite(); // never completed: a peer that stopped reading
        connection.Offer(Frame(1));
        connection.RequestClose(CloseCodes.GoingAway, "bye");
        await transport.Aborted.Task.WaitAsync(TimeSpan.FromSeconds(15)); // the close timeout is 5 s
        connection.Detach();
        Assert.Equal(1, transport.Aborts);

        // A connection that ended before its close timeout: the timeout must not reach the transport.
        var (ended, endedSocket) = Live();
        var endedTransport = new FakeTransport();
        ended.Attach(endedSocket, endedTransport);
        ended.RequestClose(CloseCodes.GoingAway, "bye");
        await ended.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        ended.Detach();
        await WhenCancelled(ended.Aborted).WaitAsync(TimeSpan.FromSeconds(15)); // the close timeout runs out
        Assert.Equal(0, endedTransport.Aborts);
    }

    private static Task WhenCancelled(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => cancelled.TrySetResult());
        return cancelled.Task;
    }

    private sealed class FakeTransport : IStreamTransport
    {
        public TaskCompletionSource Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Aborts;
        public string Path => "test";
        public CancellationToken Closed => CancellationToken.None;
        public System.Net.Sockets.Socket? Socket => null;
        public Task<WebSocket> AcceptAsync(KeepAlive keepAlive) => throw new NotSupportedException();
        public int Heartbeats;
        public void Heartbeat(TimeProvider time) => Heartbeats++;
        public void Abort()
        {
            Interlocked.Increment(ref Aborts);
            Aborted.TrySetResult();
        }
    }
}
