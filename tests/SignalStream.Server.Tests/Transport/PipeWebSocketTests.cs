using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Server.Tests.Infrastructure;
using SignalStream.Server.Transport;

namespace SignalStream.Server.Tests.Transport;

/// <summary>
/// <see cref="PipeWebSocket"/> against an independent implementation: .NET's own client WebSocket
/// on the other end of a loopback TCP connection, and raw frames for what no polite client sends.
/// Writing through the pipe; <see cref="PipeWebSocketOnSocketTests"/> runs the same on the socket.
/// </summary>
[Trait("Kind", "Unit")]
public class PipeWebSocketTests : IAsyncLifetime
{
    private static readonly KeepAlive Hourly = new(TimeSpan.FromHours(1), TimeSpan.FromHours(1));
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private Socket _serverSocket = null!;
    private NetworkStream _clientStream = null!;
    private TcpClient _client = null!;
    private IDuplexPipe _serverPipe = null!;

    public async Task InitializeAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _client = new TcpClient();
        var accept = listener.AcceptSocketAsync();
        await _client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        _serverSocket = await accept;
        _clientStream = _client.GetStream();
        _serverPipe = StreamPipe.Over(_serverSocket);
    }

    public Task DisposeAsync()
    {
        _clientStream.Dispose();
        _client.Dispose();
        _serverSocket.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Whether the server end writes to its socket directly, as it does behind <see cref="ConnectionUpgrade"/>.</summary>
    protected virtual bool OnSocket => false;

    private PipeWebSocket Server(KeepAlive? keepAlive = null) => new(_serverPipe, keepAlive ?? Hourly, OnSocket ? _serverSocket : null);

    private WebSocket Client() => WebSocket.CreateFromStream(_clientStream, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });

    private static async Task<(byte[] Message, WebSocketMessageType Type)> ReceiveMessageAsync(WebSocket socket, int chunk = 1000)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var message = new MemoryStream();
        var buffer = new byte[chunk];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close) return (message.ToArray(), result.MessageType);
        }
    }

    /// <summary>The next frame the server wrote, parsed by hand (server frames are never masked).</summary>
    private async Task<RawFrame> ReadServerFrameAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var head = new byte[2];
        await _clientStream.ReadExactlyAsync(head, timeout.Token);
        Assert.Equal(0, head[1] & 0x80); // unmasked
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            await _clientStream.ReadExactlyAsync(ext, timeout.Token);
            length = BinaryPrimitives.ReadUInt16BigEndian(ext);
        }
        else if (length == 127)
        {
            var ext = new byte[8];
            await _clientStream.ReadExactlyAsync(ext, timeout.Token);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(ext);
        }
        var payload = new byte[length];
        await _clientStream.ReadExactlyAsync(payload, timeout.Token);
        return new RawFrame((head[0] & 0x80) != 0, head[0] & 0x0F, payload);
    }

    private Task SendRawAsync(params byte[][] frames) => _clientStream.WriteAsync(frames.SelectMany(f => f).ToArray()).AsTask();

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    [InlineData(200_000)]
    public async Task Messages_OfEveryLengthEncoding_CrossBothWays(int length)
    {
        using var server = Server();
        using var client = Client();
        var text = Encoding.UTF8.GetBytes(new string('é', length / 2) + new string('x', length % 2));

        await client.SendAsync(text, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var (received, type) = await ReceiveMessageAsync(server, chunk: 4096);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal(text, received);

        await server.SendAsync(text, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        (received, type) = await ReceiveMessageAsync(client, chunk: 4096);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal(text, received);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    public async Task FramesBuiltOnce_ReachEveryClientAsTheirMessage(int length)
    {
        var text = Encoding.UTF8.GetBytes(new string('x', length));
        var frame = PipeWebSocket.NewTextFrame(text.Length, out var payloadAt);
        text.CopyTo(frame, payloadAt);
        using var server = Server();
        using var client = Client();

        await server.SendFrameAsync(frame);
        await server.SendFrameAsync(frame);
        for (var i = 0; i < 2; i++)
        {
            var (received, type) = await ReceiveMessageAsync(client, chunk: 4096);
            Assert.Equal(WebSocketMessageType.Text, type);
            Assert.Equal(text, received);
        }
    }

    [Fact]
    public async Task AClientThatStopsReading_HoldsItsWritesBack_ThenGetsEveryFrameOnce_InOrder()
    {
        _serverSocket.SendBufferSize = 4096;
        _client.Client.ReceiveBufferSize = 4096;
        using var server = Server();
        var frames = Enumerable.Range(0, 200).Select(i =>
        {
            var text = Encoding.UTF8.GetBytes($"{i}:" + new string('x', 10_000));
            var frame = PipeWebSocket.NewTextFrame(text.Length, out var payloadAt);
            text.CopyTo(frame, payloadAt);
            return frame;
        }).ToArray();

        // One sender, each frame after the last one's write (as StreamConnection sends): 2 MB, more than the buffers hold.
        var heldBack = 0;
        var sending = Task.Run(async () =>
        {
            foreach (var frame in frames)
            {
                var write = server.SendFrameAsync(frame);
                if (!write.IsCompleted) heldBack++;
                await write;
            }
        });
        for (var i = 0; i < frames.Length; i++)
            Assert.StartsWith($"{i}:", (await ReadServerFrameAsync()).AsText, StringComparison.Ordinal);
        await sending.WaitAsync(Timeout);
        Assert.NotEqual(0, heldBack);
    }

    [Fact]
    public async Task Abort_EndsAWriteWaitingForRoom()
    {
        _serverSocket.SendBufferSize = 4096;
        _client.Client.ReceiveBufferSize = 4096;
        using var server = Server();
        var frame = PipeWebSocket.NewTextFrame(4_000_000, out _); // more than the client's buffers: waits for a reader that never comes
        var write = server.SendFrameAsync(frame);
        Assert.False(write.IsCompleted);
        server.Abort();
        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => write.AsTask().WaitAsync(Timeout));
        Assert.True(thrown is WebSocketException or OperationCanceledException, thrown.ToString()); // what StreamConnection takes for a failed send
    }

    [Fact]
    public async Task ZeroByteRead_WaitsForADataFrame_AnswersPingsMeanwhile_AndTakesNothing()
    {
        using var server = Server();
        var header = server.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
        await SendRawAsync(RawWebSocket.EncodeFrame(RawFrame.Ping, "are you there"u8));
        var pong = await ReadServerFrameAsync();
        Assert.Equal((RawFrame.Pong, "are you there"), (pong.Opcode, pong.AsText));
        Assert.False(header.IsCompleted);

        await SendRawAsync(RawWebSocket.EncodeFrame(RawFrame.Text, "hello"u8));
        var waited = await header.WaitAsync(Timeout);
        Assert.Equal((0, WebSocketMessageType.Text, false), (waited.Count, waited.MessageType, waited.EndOfMessage));
        var (message, _) = await ReceiveMessageAsync(server);
        Assert.Equal("hello", Encoding.UTF8.GetString(message));
    }

    [Fact]
    public async Task Fragments_WithAPingBetween_AndUtf8SplitAcrossThem_MakeOneMessage()
    {
        using var server = Server();
        var euro = "€"u8.ToArray(); // three bytes, split 1 + 2 across the fragments
        await SendRawAsync(
            RawWebSocket.EncodeFrame(RawFrame.Text, [(byte)'a', euro[0]], fin: false),
            RawWebSocket.EncodeFrame(RawFrame.Ping, "p"u8),
            RawWebSocket.EncodeFrame(0, [], fin: false),
            RawWebSocket.EncodeFrame(0, [euro[1], euro[2], (byte)'b']));
        var (message, type) = await ReceiveMessageAsync(server, chunk: 2);
        Assert.Equal((WebSocketMessageType.Text, "a€b"), (type, Encoding.UTF8.GetString(message)));
        Assert.Equal(RawFrame.Pong, (await ReadServerFrameAsync()).Opcode);
    }

    [Fact]
    public async Task CloseHandshake_FromTheClient_IsReturned_ThenAnswered()
    {
        using var server = Server();
        using var client = Client();
        var closing = client.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        var (_, type) = await ReceiveMessageAsync(server);
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal((WebSocketCloseStatus.NormalClosure, "bye", WebSocketState.CloseReceived), (server.CloseStatus, server.CloseStatusDescription, server.State));

        await server.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await closing.WaitAsync(Timeout);
        Assert.Equal((WebSocketState.Closed, WebSocketState.Closed), (server.State, client.State));
        await Assert.ThrowsAsync<WebSocketException>(() => server.SendAsync("late"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None));
    }

    [Fact]
    public async Task CloseHandshake_FromTheServer_EndsWithTheClientsClose()
    {
        using var server = Server();
        using var client = Client();
        await server.CloseOutputAsync((WebSocketCloseStatus)4004, "slow consumer: outbound queue full", CancellationToken.None);
        Assert.Equal(WebSocketState.CloseSent, server.State);
        var (_, type) = await ReceiveMessageAsync(client);
        Assert.Equal((WebSocketMessageType.Close, (WebSocketCloseStatus)4004, "slow consumer: outbound queue full"), (type, client.CloseStatus, client.CloseStatusDescription));
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        (_, type) = await ReceiveMessageAsync(server);
        Assert.Equal((WebSocketMessageType.Close, WebSocketState.Closed), (type, server.State));
    }

    [Fact]
    public async Task CloseAsync_DropsWhatTheClientStillSends_UntilItsClose()
    {
        using var server = Server();
        using var client = Client();
        var closing = server.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        await client.SendAsync("still talking"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var (_, type) = await ReceiveMessageAsync(client);
        Assert.Equal(WebSocketMessageType.Close, type);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
        await closing.WaitAsync(Timeout);
        Assert.Equal((WebSocketState.Closed, WebSocketCloseStatus.NormalClosure), (server.State, server.CloseStatus));
    }

    [Fact]
    public async Task CloseReason_OverAControlFrame_IsCutBetweenCharacters()
    {
        using var server = Server();
        await server.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, new string('€', 100), CancellationToken.None);
        var close = await ReadServerFrameAsync();
        Assert.Equal((RawFrame.Close, 1008), (close.Opcode, close.CloseCode));
        Assert.Equal(new string('€', 41), close.CloseReason); // 41 × 3 bytes = 123, the most a close frame carries
    }

    public static TheoryData<string, byte[], int> Violations => new()
    {
        { "unmasked", Unmasked(RawFrame.Text, "{}"u8), 1002 },
        { "reserved bit", RawWebSocket.EncodeFrame(RawFrame.Text, "{}"u8, rsv: 4), 1002 },
        { "unknown opcode", RawWebSocket.EncodeFrame(0xB, "x"u8), 1002 },
        { "continuation first", RawWebSocket.EncodeFrame(0, "x"u8), 1002 },
        { "fragmented ping", RawWebSocket.EncodeFrame(RawFrame.Ping, "x"u8, fin: false), 1002 },
        { "ping of 126 bytes", RawWebSocket.EncodeFrame(RawFrame.Ping, new byte[126]), 1002 },
        { "length with the top bit set", [0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], 1002 },
        { "close of one byte", RawWebSocket.EncodeFrame(RawFrame.Close, [0x03]), 1002 },
        { "close code 1005", RawWebSocket.EncodeFrame(RawFrame.Close, [0x03, 0xED]), 1002 },
        { "close reason not UTF-8", RawWebSocket.EncodeFrame(RawFrame.Close, [0x03, 0xE8, 0xC3, 0x28]), 1007 },
        { "text not UTF-8", RawWebSocket.EncodeFrame(RawFrame.Text, [0x7B, 0xFF, 0x7D]), 1007 },
        { "text ending mid-character", RawWebSocket.EncodeFrame(RawFrame.Text, [0x61, 0xE2, 0x82]), 1007 },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task ProtocolErrors_AreClosedWithTheirCode_AndThrown(string what, byte[] frame, int code)
    {
        using var server = Server();
        await SendRawAsync(frame);
        var thrown = await Assert.ThrowsAsync<WebSocketException>(() => ReceiveMessageAsync(server));
        Assert.Contains($"closed {code}", thrown.Message, StringComparison.Ordinal);
        var close = await ReadServerFrameAsync();
        Assert.True(close.Opcode == RawFrame.Close && close.CloseCode == code, $"{what}: got opcode {close.Opcode} code {close.CloseCode}");
        Assert.Equal((WebSocketState.Aborted, (WebSocketCloseStatus)code), (server.State, server.CloseStatus));
    }

    [Fact]
    public async Task KeepAlive_PingsEachInterval_AbortsWhenAPongIsATimeoutLate()
    {
        var time = new FakeTimeProvider();
        using var server = Server(new KeepAlive(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15)));
        var receiving = server.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();

        server.Heartbeat(time); // starts the clock, somewhere in the interval
        var waited = 0;
        while (!server.AwaitingPong && waited < 16)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            waited++;
            server.Heartbeat(time);
        }
        Assert.InRange(waited, 1, 15);
        Assert.Equal(RawFrame.Ping, (await ReadServerFrameAsync()).Opcode);
        // The pong, then a ping of ours: its answer means the pong before it was taken.
        await SendRawAsync(RawWebSocket.EncodeFrame(RawFrame.Pong, []), RawWebSocket.EncodeFrame(RawFrame.Ping, "sync"u8));
        Assert.Equal("sync", (await ReadServerFrameAsync()).AsText);

        time.Advance(TimeSpan.FromSeconds(15));
        server.Heartbeat(time); // answered: no abort, the next ping, one interval after the first
        Assert.True(server.AwaitingPong);
        Assert.Equal(RawFrame.Ping, (await ReadServerFrameAsync()).Opcode);
        time.Advance(TimeSpan.FromSeconds(14));
        server.Heartbeat(time);
        Assert.Equal(WebSocketState.Open, server.State);
        time.Advance(TimeSpan.FromSeconds(1));
        server.Heartbeat(time); // no pong for a whole timeout
        Assert.Equal(WebSocketState.Aborted, server.State);
        await Assert.ThrowsAsync<WebSocketException>(() => receiving.WaitAsync(Timeout));
    }

    [Fact]
    public async Task ConcurrentSends_AndPongs_NeverInterleaveFrames()
    {
        using var server = Server();
        using var client = Client();
        var receiving = server.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask(); // answers the pings
        var payloads = Enumerable.Range(0, 200).Select(i => Encoding.UTF8.GetBytes($"{i}:" + new string('x', i * 37))).ToArray();
        var gate = new SemaphoreSlim(1, 1);
        var sends = payloads.Select(p => Task.Run(async () =>
        {
            await gate.WaitAsync(); // one sender at a time, as StreamConnection guarantees
            try { await server.SendAsync(p, WebSocketMessageType.Text, true, CancellationToken.None); }
            finally { gate.Release(); }
        }));
        var pings = Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++) await SendRawAsync(RawWebSocket.EncodeFrame(RawFrame.Ping, [(byte)i]));
        });
        await Task.WhenAll(sends.Append(pings));

        var texts = new HashSet<string>();
        var pongs = 0;
        while (texts.Count < payloads.Length || pongs < 50)
        {
            var frame = await ReadServerFrameAsync();
            if (frame.Opcode == RawFrame.Pong) pongs++;
            else Assert.True(texts.Add(frame.AsText));
        }
        Assert.Equal(payloads.Select(Encoding.UTF8.GetString).ToHashSet(), texts);
        Assert.False(receiving.IsCompleted);
    }

    [Fact]
    public async Task ClientPings_AreAnsweredUpToTheRate_AndAFloodCloses4003()
    {
        using var server = Server(Hourly with { ClientPingsPerSecond = 5 });
        var receiving = server.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
        // Eleven pings at once: five answered, five over the rate unanswered, the eleventh a flood.
        await SendRawAsync([.. Enumerable.Range(0, 11).Select(i => RawWebSocket.EncodeFrame(RawFrame.Ping, [(byte)i]))]);
        var thrown = await Assert.ThrowsAsync<WebSocketException>(() => receiving.WaitAsync(Timeout));
        Assert.Contains("closed 4003", thrown.Message, StringComparison.Ordinal);

        var frames = new List<RawFrame>();
        RawFrame frame;
        do frames.Add(frame = await ReadServerFrameAsync()); while (frame.Opcode != RawFrame.Close);
        Assert.Equal([0, 1, 2, 3, 4], frames.Where(f => f.Opcode == RawFrame.Pong).Select(f => (int)f.Payload[0]));
        Assert.Equal(4003, frames[^1].CloseCode);
    }

    [Fact]
    public async Task Abort_EndsAPendingReceive()
    {
        using var server = Server();
        var receiving = server.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
        server.Abort();
        await Assert.ThrowsAsync<WebSocketException>(() => receiving.WaitAsync(Timeout));
        Assert.Equal(WebSocketState.Aborted, server.State);
    }

    [Fact]
    public async Task ClientGoingAwayWithoutAClose_IsAPrematureEnd()
    {
        using var server = Server();
        await SendRawAsync(RawWebSocket.EncodeFrame(RawFrame.Text, "{\"type\":"u8, fin: false)[..5]); // a header cut short
        _clientStream.Socket.Shutdown(SocketShutdown.Send);
        var thrown = await Assert.ThrowsAsync<WebSocketException>(() => ReceiveMessageAsync(server));
        Assert.Equal(WebSocketError.ConnectionClosedPrematurely, thrown.WebSocketErrorCode);
    }

    private static byte[] Unmasked(int opcode, ReadOnlySpan<byte> payload) => [(byte)(0x80 | opcode), (byte)payload.Length, .. payload];
}

/// <summary>The same, with the server end writing to its socket directly (non-blocking, then async).</summary>
[Trait("Kind", "Unit")]
public sealed class PipeWebSocketOnSocketTests : PipeWebSocketTests
{
    protected override bool OnSocket => true;
}
