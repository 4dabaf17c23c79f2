using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using SignalStream.Server.Tests.Infrastructure;
using SignalStream.Server.Transport;

namespace SignalStream.Server.Tests.Fanout;

/// <summary>
/// A fan-out pass's writes through io_uring (<see cref="SendBatch"/>), on real loopback sockets: they wait for the
/// pass's submission and then reach every socket; a gathered run arrives whole and in order; a socket without room
/// gets the rest asynchronously; a socket that failed ends only its own connection.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class SendBatchTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<IDisposable> _owned = [];

    public Task InitializeAsync()
    {
        _listener.Start();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        foreach (var owned in _owned) owned.Dispose();
        _listener.Stop();
        return Task.CompletedTask;
    }

    private static SendBatch NewBatch() =>
        SendBatch.TryCreate(out var unavailable) ?? throw new InvalidOperationException($"io_uring unavailable here ({unavailable}): these tests need it");

    private sealed record Pair(StreamConnection Connection, Socket Server, Socket Client);

    /// <summary>A live connection on our own WebSocket over a loopback socket, and the client's end of it.</summary>
    private async Task<Pair> ConnectAsync(int queue = 64, Action<Socket>? setUp = null)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        setUp?.Invoke(client);
        var accept = _listener.AcceptSocketAsync();
        await client.ConnectAsync((IPEndPoint)_listener.LocalEndpoint);
        var server = await accept;
        setUp?.Invoke(server);
        var webSocket = new PipeWebSocket(StreamPipe.Over(server), new KeepAlive(TimeSpan.FromHours(1), TimeSpan.FromHours(1)), server);
        _owned.AddRange([client, server, webSocket]);
        var connection = new StreamConnection("user", new ConnectionFilter(Tier.Starter, null), DateTimeOffset.UtcNow.AddHours(1), queue, 16, new ServerMetrics());
        connection.Attach(webSocket);
        connection.GoLive(0);
        return new Pair(connection, server, client);
    }

    private static OutboundFrame Frame(long seq, int padding = 0) =>
        new(Encoding.UTF8.GetBytes($"{{\"seq\":{seq},\"pad\":\"{new string('x', padding)}\"}}"), seq);

    /// <summary>The next text frame's payload, read by hand (server frames are unmasked).</summary>
    private static async Task<string> ReadFrameAsync(Socket client)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var head = new byte[10];
        await ReadExactlyAsync(client, head.AsMemory(0, 2), timeout.Token);
        Assert.Equal(0x81, head[0]); // a final text frame
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            await ReadExactlyAsync(client, head.AsMemory(2, 2), timeout.Token);
            length = BinaryPrimitives.ReadUInt16BigEndian(head.AsSpan(2));
        }
        else if (length == 127)
        {
            await ReadExactlyAsync(client, head.AsMemory(2, 8), timeout.Token);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(head.AsSpan(2));
        }
        var payload = new byte[length];
        await ReadExactlyAsync(client, payload, timeout.Token);
        return Encoding.UTF8.GetString(payload);
    }

    private static async Task ReadExactlyAsync(Socket socket, Memory<byte> into, CancellationToken ct)
    {
        while (!into.IsEmpty)
        {
            var read = await socket.ReceiveAsync(into, SocketFlags.None, ct);
            if (read == 0) throw new EndOfStreamException("the server closed the connection");
            into = into[read..];
        }
    }

    private static long SeqOf(string json) => long.Parse(json.AsSpan(7, json.IndexOf(',') - 7));

    [Fact]
    public async Task APassesWrites_WaitForItsSubmission_ThenReachEverySocket_ARunGatheredInOrder()
    {
        using var batch = NewBatch();
        var pairs = new List<Pair>();
        for (var i = 0; i < 12; i++) pairs.Add(await ConnectAsync());

        foreach (var pair in pairs) Assert.Equal(OfferResult.Queued, pair.Connection.Offer(Frame(1), send: true, batch));
        Assert.All(pairs, pair => Assert.Equal(0, pair.Client.Available)); // nothing left before the submission
        batch.Submit();
        foreach (var pair in pairs) Assert.Equal(1, SeqOf(await ReadFrameAsync(pair.Client)));

        // A run of three: the last offer writes all three in one gathered send.
        foreach (var pair in pairs)
            for (var seq = 2; seq <= 4; seq++) pair.Connection.Offer(Frame(seq), send: seq == 4, batch);
        batch.Submit();
        foreach (var pair in pairs)
            for (var seq = 2; seq <= 4; seq++) Assert.Equal(seq, SeqOf(await ReadFrameAsync(pair.Client)));
        Assert.All(pairs, pair => Assert.Equal(0, pair.Connection.QueueDepth));
    }

    [Fact]
    public async Task ASocketWithoutRoom_TakesWhatItCan_AndTheRestFollowsAsynchronously_WholeAndInOrder()
    {
        using var batch = NewBatch();
        var pair = await ConnectAsync(setUp: socket => (socket.SendBufferSize, socket.ReceiveBufferSize) = (4096, 4096));
        const int frames = 6, padding = 256 * 1024; // each far more than both buffers hold: every write is cut short

        for (var seq = 1; seq <= frames; seq++)
        {
            pair.Connection.Offer(Frame(seq, padding), send: true, batch);
            batch.Submit();
        }
        for (var seq = 1; seq <= frames; seq++)
        {
            var json = await ReadFrameAsync(pair.Client);
            Assert.Equal(seq, SeqOf(json));
            Assert.Equal(Encoding.UTF8.GetByteCount($"{{\"seq\":{seq},\"pad\":\"\"}}") + padding, json.Length);
        }
        Assert.Equal(0, pair.Connection.CloseCode);
    }

    [Fact]
    public async Task ASocketThatFailed_EndsOnlyItsOwnConnection()
    {
        using var batch = NewBatch();
        var healthy = await ConnectAsync();
        var reset = await ConnectAsync();
        reset.Client.LingerState = new LingerOption(true, 0);
        reset.Client.Close(); // a reset
        Assert.True(reset.Server.Poll(Timeout, SelectMode.SelectRead)); // the server's end has seen it

        healthy.Connection.Offer(Frame(1), send: true, batch);
        reset.Connection.Offer(Frame(1), send: true, batch);
        batch.Submit();

        await reset.Connection.Closed.WaitAsync(Timeout);
        Assert.Equal(CloseCodes.InternalError, reset.Connection.CloseCode);
        Assert.Equal(1, SeqOf(await ReadFrameAsync(healthy.Client)));
        Assert.Equal(0, healthy.Connection.CloseCode);
    }

    /// <summary>Batched, and as where io_uring is refused: a <c>send()</c> per write.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AHub_BroadcastsToRealSockets_InSeqOrder(bool batchedSends)
    {
        using var hub = new ConnectionHub(new ServerMetrics(), batchedSends);
        Assert.Equal(batchedSends, hub.BatchedSends);
        var pairs = new List<Pair>();
        for (var i = 0; i < 40; i++)
        {
            var pair = await ConnectAsync();
            Assert.Equal(HubEntry.Added, hub.TryAdd(pair.Connection, 100, 1000, out _));
            pairs.Add(pair);
        }
        for (var seq = 1; seq <= 20; seq++) hub.Broadcast(Frame(seq));
        foreach (var pair in pairs)
            for (var seq = 1; seq <= 20; seq++) Assert.Equal(seq, SeqOf(await ReadFrameAsync(pair.Client)));
    }
}
