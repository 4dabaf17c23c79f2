using System.Text;
using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Streaming;

/// <summary>
/// SECURITY.md, "WebSocket input": frames no polite client sends, written by <see cref="RawWebSocket"/>.
/// Each test proves the exact close code and that the server is still serving others afterwards.
/// </summary>
[Trait("Kind", "Security")]
public sealed class WebSocketInputTests(WebSocketInputTests.Fixture fixture) : IClassFixture<WebSocketInputTests.Fixture>
{
    public sealed class Fixture() : ServerFixture("--Limits:ConnectionsPerUser=50");

    private readonly TestServer _server = fixture.Server;
    private readonly TestUser _user = fixture.User;

    private async Task<RawWebSocket> OpenAsync()
    {
        var socket = await _server.ConnectRawAsync(bearer: _user.Token);
        Assert.Equal(101, socket.Status);
        Assert.Equal(MessageTypes.Welcome, JsonSerializer.Deserialize(await socket.ExpectTextAsync(), ProtocolJson.Default.ServerMessage)!.Type);
        return socket;
    }

    /// <summary>The server still accepts, welcomes and delivers to a fresh connection.</summary>
    private async Task AssertServerHealthyAsync()
    {
        var (socket, _) = await _server.ConnectWelcomedAsync(_user.Token);
        await using var _s = socket;
        var seq = await _server.PublishAsync();
        Assert.Equal(seq, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);
    }

    [Fact]
    public async Task Frame_OneByteOverTheLimit_Closes1009()
    {
        await using var socket = await OpenAsync();
        var prefix = "{\"type\":\"ping\",\"ts\":1,\"pad\":\"";
        var payload = Encoding.UTF8.GetBytes(prefix + new string('x', 64 * 1024 + 1 - prefix.Length - 2) + "\"}");
        Assert.Equal(64 * 1024 + 1, payload.Length);
        await socket.SendFrameAsync(RawFrame.Text, payload);
        Assert.Equal(CloseCodes.MessageTooBig, await socket.ExpectCloseAsync());
        Assert.DoesNotContain(socket.Texts, t => t.Contains("\"pong\"", StringComparison.Ordinal));
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Frame_ExactlyAtTheLimit_IsAccepted()
    {
        await using var socket = await OpenAsync();
        var prefix = "{\"type\":\"ping\",\"ts\":5,\"pad\":\"";
        var payload = Encoding.UTF8.GetBytes(prefix + new string('x', 64 * 1024 - prefix.Length - 2) + "\"}");
        Assert.Equal(64 * 1024, payload.Length);
        await socket.SendFrameAsync(RawFrame.Text, payload);
        Assert.Contains("\"pong\"", await socket.ExpectTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frame_DeclaringTenMegabytes_IsRefused1009AfterTheLimit_WithoutWaitingForTheRest()
    {
        await using var socket = await OpenAsync();
        // The header claims 10 MB; only the first 64 KB + 1 byte ever leave the client. A server that
        // waited for the frame (or for a full read buffer) before judging it would wait here forever.
        var sent = new byte[64 * 1024 + 1];
        sent.AsSpan().Fill((byte)'x');
        await socket.SendBytesAsync(RawWebSocket.EncodeFrame(RawFrame.Text, sent, declaredLength: 10 * 1024 * 1024));
        Assert.Equal(CloseCodes.MessageTooBig, await socket.ExpectCloseAsync());
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Frame_OversizedAcrossContinuations_Closes1009()
    {
        await using var socket = await OpenAsync();
        var chunk = new byte[16 * 1024];
        chunk.AsSpan().Fill((byte)'x');
        await socket.SendFrameAsync(RawFrame.Text, chunk, fin: false);
        for (var i = 0; i < 5; i++) await socket.SendFrameAsync(RawFrame.Continuation, chunk, fin: false);
        Assert.Equal(CloseCodes.MessageTooBig, await socket.ExpectCloseAsync());
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Frame_Binary_Closes1003()
    {
        await using var socket = await OpenAsync();
        await socket.SendFrameAsync(RawFrame.Binary, "{\"type\":\"ping\",\"ts\":1}"u8);
        Assert.Equal(CloseCodes.BinaryNotSupported, await socket.ExpectCloseAsync());
        Assert.DoesNotContain(socket.Texts, t => t.Contains("\"pong\"", StringComparison.Ordinal));
        await AssertServerHealthyAsync();
    }

    [Theory]
    [InlineData(new byte[] { 0xC3, 0x28 })]             // a two-byte sequence with a bad continuation byte
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]       // an encoded UTF-16 surrogate
    [InlineData(new byte[] { 0xF8, 0x88, 0x80, 0x80 })] // no such lead byte
    public async Task Frame_InvalidUtf8Text_Closes1007(byte[] bad)
    {
        await using var socket = await OpenAsync();
        byte[] payload = [.. "{\"type\":\"ping\",\"ts\":1,\"x\":\""u8, .. bad, .. "\"}"u8];
        await socket.SendFrameAsync(RawFrame.Text, payload);
        Assert.Equal(CloseCodes.InvalidUtf8, await socket.ExpectCloseAsync());
        Assert.DoesNotContain(socket.Texts, t => t.Contains("\"pong\"", StringComparison.Ordinal));
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Frame_InvalidUtf8SplitAcrossFragments_Closes1007()
    {
        await using var socket = await OpenAsync();
        await socket.SendFrameAsync(RawFrame.Text, "{\"type\":\"ping\",\"x\":\"\xC3"u8.ToArray().AsSpan(0, 20), fin: false);
        await socket.SendFrameAsync(RawFrame.Continuation, new byte[] { 0xC3 }, fin: false);
        await socket.SendFrameAsync(RawFrame.Continuation, new byte[] { 0x28, (byte)'"', (byte)'}' });
        Assert.Equal(CloseCodes.InvalidUtf8, await socket.ExpectCloseAsync());
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Frame_ContinuationWithoutAStart_Closes1002()
    {
        await using var socket = await OpenAsync();
        await socket.SendFrameAsync(RawFrame.Continuation, "{\"type\":\"ping\"}"u8);
        Assert.Equal(1002, await socket.ExpectCloseAsync());
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Frame_NewMessageBeforeTheLastFragment_Closes1002()
    {
        await using var socket = await OpenAsync();
        await socket.SendFrameAsync(RawFrame.Text, "{\"type\":"u8, fin: false);
        await socket.SendFrameAsync(RawFrame.Text, "{\"type\":\"ping\",\"ts\":1}"u8);
        Assert.Equal(1002, await socket.ExpectCloseAsync());
        Assert.DoesNotContain(socket.Texts, t => t.Contains("\"pong\"", StringComparison.Ordinal));
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Frame_FirstFragmentThenClose_EndsCleanly_AndFragmentedMessagesStillWork()
    {
        // A well-formed fragmented message is answered.
        await using (var polite = await OpenAsync())
        {
            await polite.SendFrameAsync(RawFrame.Text, "{\"type\":\"pi"u8, fin: false);
            await polite.SendFrameAsync(RawFrame.Continuation, "ng\",\"ts\":"u8, fin: false);
            await polite.SendFrameAsync(RawFrame.Continuation, "42}"u8);
            Assert.Contains("\"ts\":42", await polite.ExpectTextAsync(), StringComparison.Ordinal);
        }

        // A fragment that is never finished, then the client's close: the server answers the close.
        await using var socket = await OpenAsync();
        await socket.SendFrameAsync(RawFrame.Text, "{\"type\":"u8, fin: false);
        await socket.SendCloseAsync();
        Assert.Equal(CloseCodes.Normal, await socket.ExpectCloseAsync());
        Assert.True(await socket.WaitForEndOfStreamAsync(RawWebSocket.DefaultTimeout));
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Frame_ReservedBitsUnknownOpcodeOrUnmasked_Closes1002()
    {
        await using (var socket = await OpenAsync())
        {
            await socket.SendBytesAsync(new byte[] { 0x81, 0x02, (byte)'{', (byte)'}' }); // a client frame without a mask
            Assert.Equal(1002, await socket.ExpectCloseAsync());
        }
        await using (var socket = await OpenAsync())
        {
            await socket.SendBytesAsync(RawWebSocket.EncodeFrame(RawFrame.Text, "{\"type\":\"ping\"}"u8, rsv: 4)); // RSV1: compression never negotiated
            Assert.Equal(1002, await socket.ExpectCloseAsync());
        }
        await using (var socket = await OpenAsync())
        {
            await socket.SendFrameAsync(0x3, "x"u8);
            Assert.Equal(1002, await socket.ExpectCloseAsync());
        }
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Upgrade_OfferingPermessageDeflate_IsNotNegotiated()
    {
        await using var socket = await _server.ConnectRawAsync(bearer: _user.Token,
            headers: [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]);
        Assert.Equal(101, socket.Status);
        Assert.False(socket.Headers.ContainsKey("Sec-WebSocket-Extensions"));
        // And the server's frames are plain: a readable JSON welcome with RSV1 clear.
        var frame = await socket.ReceiveFrameAsync();
        Assert.Equal(RawFrame.Text, frame!.Opcode);
        Assert.Equal(MessageTypes.Welcome, JsonSerializer.Deserialize(frame.AsText, ProtocolJson.Default.ServerMessage)!.Type);
    }

    [Fact]
    public async Task Messages_RepeatedBadFrames_ErrorEachThenClose4501()
    {
        await using var socket = await _server.ConnectAsync(_user.Token);
        await socket.ExpectAsync(MessageTypes.Welcome);
        string[] bad = ["{nope", "{\"type\":\"teleport\"}", "{\"ts\":1}", "{\"type\":\"resume\"}", "[1,2]"];
        for (var i = 0; i < bad.Length - 1; i++)
        {
            await socket.SendTextAsync(bad[i]);
            await socket.ExpectAsync(MessageTypes.Error);
        }
        await socket.SendTextAsync(bad[^1]);
        Assert.Equal(CloseCodes.TooManyBadFrames, await socket.ExpectCloseAsync());
        Assert.Equal(bad.Length, socket.Received.Count(m => m.Type == MessageTypes.Error));
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Messages_PingFlood_RateLimitedErrorThenClose4003_WhileAnotherClientGetsEverySignal()
    {
        var other = await _server.CreateUserAsync(Tier.Starter);
        var (bystander, _) = await _server.ConnectWelcomedAsync(other.Token);
        await using var _b = bystander;
        await using var flooder = await OpenAsync();

        var publishing = Task.Run(async () =>
        {
            var seqs = new List<long>();
            for (var i = 0; i < 10; i++) seqs.Add(await _server.PublishAsync());
            return seqs;
        });
        // One write holding 200 pings: they arrive faster than any rate a client may keep up.
        var frames = Enumerable.Range(0, 200).SelectMany(i => RawWebSocket.EncodeFrame(RawFrame.Text, Encoding.UTF8.GetBytes($"{{\"type\":\"ping\",\"ts\":{i}}}"))).ToArray();
        await flooder.SendBytesAsync(frames);
        Assert.Equal(CloseCodes.RateLimited, await flooder.ExpectCloseAsync());
        var errors = flooder.Texts.Select(t => JsonSerializer.Deserialize(t, ProtocolJson.Default.ServerMessage)!).Where(m => m.Type == MessageTypes.Error).ToList();
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.Equal(ErrorCodes.RateLimited, e.Code));
        Assert.True(flooder.Texts.Count(t => t.Contains("\"pong\"", StringComparison.Ordinal)) <= 20, "at most the per-second budget is answered");

        var published = await publishing;
        Assert.Equal(published, (await bystander.ReceiveSignalsAsync(published.Count)).Select(s => s.Seq!.Value));
    }

    [Fact]
    public async Task ProtocolPingFlood_IsAnsweredUpToTheRate_ThenClosed4003()
    {
        await using var socket = await OpenAsync();
        await socket.SendBytesAsync(Enumerable.Range(0, 60).SelectMany(i => RawWebSocket.EncodeFrame(RawFrame.Ping, [(byte)i])).ToArray());
        var pongs = 0;
        RawFrame? frame;
        while ((frame = await socket.ReceiveFrameAsync()) is { Opcode: not RawFrame.Close })
            if (frame.Opcode == RawFrame.Pong) pongs++;
        Assert.NotNull(frame);
        Assert.Equal(CloseCodes.RateLimited, frame.CloseCode);
        Assert.Equal(20, pongs); // WebSockets:MessagesPerSecond
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task Messages_JustOverTheRate_GetRateLimitedErrors_AndTheSocketStays()
    {
        await using var socket = await _server.ConnectAsync(_user.Token);
        await socket.ExpectAsync(MessageTypes.Welcome);
        for (var i = 0; i < 25; i++) await socket.SendAsync(new { type = "ping", ts = i });
        var frames = new List<ServerMessage>();
        while (frames.Count < 25) frames.Add((await socket.ReceiveAsync())!);
        Assert.Equal(20, frames.Count(f => f.Type == MessageTypes.Pong));
        Assert.Equal(5, frames.Count(f => f.Type == MessageTypes.Error && f.Code == ErrorCodes.RateLimited));
        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, socket.Inner.State);
    }
}
