using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace SignalStream.Server.Transport;

/// <summary>
/// The server end of a WebSocket (RFC 6455, no extensions) written straight on a connection's
/// pipes, for the upgrades <see cref="ConnectionUpgrade"/> serves. ManagedWebSocket over a stream
/// adapter cost every idle connection ~1.1 KB: its pending read through two stream wrappers, a
/// keep-alive timer, two locks. This one waits in a single pipe read, and is pinged by the hub's
/// sweep (<see cref="Heartbeat"/>) instead of a timer of its own.
/// <para>
/// Given the connection's socket, it writes to it directly: a non-blocking <c>send()</c> on the
/// caller's thread (for a broadcast, its fan-out shard's), and an async send of the rest only when the
/// kernel's buffer is full. Through Kestrel's output pipe every frame was copied once more and sent
/// from its send loop on another thread. The pipe's writer is then never used: the two would race.
/// </para>
/// <para>
/// Behaves as ManagedWebSocket does where the session relies on it: protocol pings are answered,
/// a text message that is not UTF-8 is closed 1007 and any other protocol error (an unmasked
/// client frame, reserved bits, an unknown opcode, a stray continuation...) 1002, then thrown as a
/// <see cref="WebSocketException"/>; a received close is returned, and answered by the caller.
/// Unlike ManagedWebSocket it holds the client's protocol pings to a rate (<see cref="KeepAlive.ClientPingsPerSecond"/>).
/// </para>
/// </summary>
public sealed class PipeWebSocket : WebSocket
{
    private const int MaxControlPayload = 125;
    private const int MaxHeader = 10; // server frames carry no mask
    private const byte FinBit = 0x80;
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private readonly KeepAlive _keepAlive;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Socket? _socket; // when set, frames go to it instead of _output
    private readonly SemaphoreSlim _sendLock = new(1, 1); // the session's sender, pongs, pings and the close share the writer
    private volatile int _state = (int)WebSocketState.Open;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeDescription;

    // The client's message and data frame being read (reads are never concurrent).
    private WebSocketMessageType? _message;
    private bool _inFrame;
    private bool _frameFin;
    private long _frameLeft;
    private uint _mask; // rotated as bytes are unmasked, so the next byte's key is always the low byte
    private Decoder? _utf8; // only for a client that sends text

    private bool _sendingFragments;
    private RateWindow _clientPings;
    private long _lastPingAt;
    private long _pongDueSince; // when the unanswered ping went out; 0 when none is

    /// <param name="socket">The connection's socket, written to directly (made non-blocking); null writes through <paramref name="pipe"/>.</param>
    public PipeWebSocket(IDuplexPipe pipe, KeepAlive keepAlive, Socket? socket = null)
    {
        (_input, _output, _keepAlive, _socket) = (pipe.Input, pipe.Output, keepAlive, socket);
        if (socket is not null) socket.Blocking = false; // a send that would wait returns what it took instead
    }

    /// <summary>
    /// Answers a client's opening handshake (<paramref name="key"/>: its Sec-WebSocket-Key) with the 101,
    /// written the way the frames after it will be, and returns the server end.
    /// </summary>
    public static async Task<PipeWebSocket> AcceptAsync(IDuplexPipe pipe, Socket? socket, string key, KeepAlive keepAlive)
    {
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
        // No Sec-WebSocket-Extensions: permessage-deflate is never negotiated.
        var response = Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {accept}\r\n\r\n");
        var webSocket = new PipeWebSocket(pipe, keepAlive, socket);
        await webSocket.WriteAsync(response);
        return webSocket;
    }

    /// <summary>
    /// A final text frame for a payload of <paramref name="payloadLength"/> bytes, its header written; the
    /// caller writes the payload from <paramref name="payloadAt"/>. Built once, it goes to any number of
    /// sockets (<see cref="SendFrameAsync"/>).
    /// </summary>
    public static byte[] NewTextFrame(int payloadLength, out int payloadAt)
    {
        Span<byte> header = stackalloc byte[MaxHeader];
        payloadAt = WriteHeader(header, Opcode.Text, fin: true, payloadLength);
        var frame = new byte[payloadAt + payloadLength];
        header[..payloadAt].CopyTo(frame);
        return frame;
    }

    public override WebSocketState State => (WebSocketState)_state;
    internal bool AwaitingPong => Interlocked.Read(ref _pongDueSince) != 0;
    public override WebSocketCloseStatus? CloseStatus => _closeStatus;
    public override string? CloseStatusDescription => _closeDescription;
    public override string? SubProtocol => null;

    /// <summary>Called on every hub sweep: pings once per interval (the first time within one), aborts when a pong is a timeout late.</summary>
    public void Heartbeat(TimeProvider time)
    {
        if (State != WebSocketState.Open) return;
        var now = time.GetTimestamp();
        var pingedAt = Interlocked.Read(ref _pongDueSince);
        if (pingedAt != 0)
        {
            if (time.GetElapsedTime(pingedAt, now) >= _keepAlive.Timeout) Abort();
            return;
        }
        if (_lastPingAt == 0)
        {
            // The first sweep starts the clock at a random point of the interval: sockets that connected
            // together (a reconnect storm, a load test) would otherwise all be pinged by the same sweep.
            _lastPingAt = now - (long)(Random.Shared.NextDouble() * _keepAlive.Interval.TotalSeconds * time.TimestampFrequency);
            return;
        }
        if (time.GetElapsedTime(_lastPingAt, now) < _keepAlive.Interval) return;
        if (!_sendLock.Wait(0)) return; // a write is under way: ping on the next sweep
        _lastPingAt = now;
        Interlocked.Exchange(ref _pongDueSince, now);
        _ = PingAsync();
    }

    /// <summary>Called with the send lock held. A failed ping is no news: the read or the next send sees the same end.</summary>
    private async Task PingAsync()
    {
        try { await WriteFrame(Opcode.Ping, default, fin: true); }
        catch (Exception e) when (e is WebSocketException or InvalidOperationException or IOException) { }
        finally { _sendLock.Release(); }
    }

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken);
        return result.MessageType == WebSocketMessageType.Close
            ? new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, _closeStatus, _closeDescription)
            : new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
    }

    /// <summary>
    /// Returns part of a data message, or the close. An empty <paramref name="buffer"/> waits for the
    /// next data frame without taking anything from it (an idle reader holds no buffer).
    /// </summary>
    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (State is not (WebSocketState.Open or WebSocketState.CloseSent))
            throw new WebSocketException(WebSocketError.InvalidState, $"cannot receive in state {State}");
        while (true)
        {
            if (_inFrame && _frameLeft == 0) // an empty frame: nothing to wait for
            {
                if (_frameFin && _message == WebSocketMessageType.Text && !IsUtf8([], final: true))
                    throw await FailAsync(WebSocketCloseStatus.InvalidPayloadData, "text is not UTF-8");
                return EndOfFrame(0);
            }
            var read = await _input.ReadAsync(cancellationToken);
            if (read.IsCanceled) throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "the WebSocket was aborted");
            var data = read.Buffer;

            if (!_inFrame)
            {
                var header = FrameHeader.TryParse(data, out var headerLength);
                if (header is null)
                {
                    if (read.IsCompleted) throw Premature();
                    _input.AdvanceTo(data.Start, data.End);
                    continue;
                }
                if (Violation(header.Value) is { } violation)
                {
                    _input.AdvanceTo(data.Start);
                    throw await FailAsync(WebSocketCloseStatus.ProtocolError, violation);
                }
                var h = header.Value;
                if (h.Opcode >= Opcode.Close)
                {
                    if (data.Length < headerLength + h.Length)
                    {
                        if (read.IsCompleted) throw Premature();
                        _input.AdvanceTo(data.Start, data.End);
                        continue;
                    }
                    var payload = h.Length == 0 ? [] : new byte[h.Length];
                    data.Slice(headerLength, h.Length).CopyTo(payload);
                    _input.AdvanceTo(data.GetPosition(headerLength + h.Length));
                    Unmask(payload, h.Mask);
                    if (await ControlAsync(h.Opcode, payload) is { } close) return close;
                    continue;
                }
                _input.AdvanceTo(data.GetPosition(headerLength));
                if (h.Opcode != Opcode.Continuation) _message = h.Opcode == Opcode.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                (_inFrame, _frameFin, _frameLeft, _mask) = (true, h.Fin, h.Length, h.Mask);
                if (buffer.IsEmpty) return new(0, _message!.Value, false);
                continue;
            }

            // Inside a data frame: hand over what has arrived, up to the caller's buffer.
            var count = (int)Math.Min(Math.Min(buffer.Length, _frameLeft), data.Length);
            if (count == 0)
            {
                if (buffer.IsEmpty)
                {
                    _input.AdvanceTo(data.Start);
                    return new(0, _message!.Value, false);
                }
                if (read.IsCompleted) throw Premature();
                _input.AdvanceTo(data.Start, data.End);
                continue;
            }
            var chunk = buffer.Span[..count];
            data.Slice(0, count).CopyTo(chunk);
            _input.AdvanceTo(data.GetPosition(count));
            _mask = Unmask(chunk, _mask);
            _frameLeft -= count;
            if (_message == WebSocketMessageType.Text && !IsUtf8(chunk, final: _frameLeft == 0 && _frameFin))
                throw await FailAsync(WebSocketCloseStatus.InvalidPayloadData, "text is not UTF-8");
            return _frameLeft == 0 ? EndOfFrame(count) : new(count, _message!.Value, false);
        }
    }

    private ValueWebSocketReceiveResult EndOfFrame(int count)
    {
        var type = _message!.Value;
        _inFrame = false;
        if (_frameFin) _message = null;
        return new(count, type, _frameFin);
    }

    private string? Violation(FrameHeader h) => h switch
    {
        { Reserved: true } => "reserved bits set",
        { Masked: false } => "client frames must be masked",
        { Opcode: > Opcode.Binary and < Opcode.Close } or { Opcode: > Opcode.Pong } => "unknown opcode",
        { Opcode: >= Opcode.Close } when !h.Fin || h.Length > MaxControlPayload => "control frames are final and at most 125 bytes",
        { Opcode: Opcode.Continuation } when _message is null => "continuation without a message",
        { Opcode: Opcode.Text or Opcode.Binary } when _message is not null => "new message before the last fragment",
        { Length: < 0 } => "frame length out of range",
        _ => null,
    };

    /// <summary>Answers a ping, takes a pong; a close is returned to the caller.</summary>
    private async ValueTask<ValueWebSocketReceiveResult?> ControlAsync(Opcode opcode, byte[] payload)
    {
        switch (opcode)
        {
            case Opcode.Ping:
                switch (_clientPings.Count(_keepAlive.ClientPingsPerSecond, TimeProvider.System))
                {
                    case FrameVerdict.Flood: throw await FailAsync((WebSocketCloseStatus)Protocol.CloseCodes.RateLimited, "rate limited");
                    case FrameVerdict.Ok: await SendLockedAsync(Opcode.Pong, payload, fin: true, CancellationToken.None); break;
                }
                return null; // over the rate: unanswered
            case Opcode.Pong:
                Interlocked.Exchange(ref _pongDueSince, 0);
                return null;
        }
        if (payload.Length == 1) throw await FailAsync(WebSocketCloseStatus.ProtocolError, "close payload of one byte");
        if (payload.Length >= 2)
        {
            var code = BinaryPrimitives.ReadUInt16BigEndian(payload);
            if (!IsValidCloseCode(code)) throw await FailAsync(WebSocketCloseStatus.ProtocolError, "invalid close code");
            if (!Utf8.IsValid(payload.AsSpan(2))) throw await FailAsync(WebSocketCloseStatus.InvalidPayloadData, "close reason is not UTF-8");
            _closeStatus = (WebSocketCloseStatus)code;
            _closeDescription = Encoding.UTF8.GetString(payload, 2, payload.Length - 2);
        }
        else _closeStatus = WebSocketCloseStatus.Empty;
        _state = (int)(State == WebSocketState.CloseSent ? WebSocketState.Closed : WebSocketState.CloseReceived);
        return new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true);
    }

    private static bool IsValidCloseCode(int code) => code is >= 1000 and <= 1003 or >= 1007 and <= 1014 or >= 3000 and <= 4999;

    private bool IsUtf8(ReadOnlySpan<byte> bytes, bool final)
    {
        _utf8 ??= new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetDecoder();
        Span<char> scratch = stackalloc char[256];
        try
        {
            do
            {
                _utf8.Convert(bytes, scratch, final, out var used, out _, out _);
                bytes = bytes[used..];
            } while (!bytes.IsEmpty);
            if (final) _utf8.Reset();
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>Sends the close for a broken rule (if none was sent), and gives the exception to throw.</summary>
    private async ValueTask<WebSocketException> FailAsync(WebSocketCloseStatus status, string reason)
    {
        var wasOpen = State is WebSocketState.Open or WebSocketState.CloseReceived;
        _closeStatus = status;
        _closeDescription = reason;
        if (wasOpen)
        {
            try { await SendCloseAsync(status, reason, CancellationToken.None); }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidOperationException) { }
        }
        _state = (int)WebSocketState.Aborted;
        return new WebSocketException(WebSocketError.Faulted, $"closed {(int)status}: {reason}");
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            throw new WebSocketException(WebSocketError.InvalidState, $"cannot send in state {State}");
        if (messageType == WebSocketMessageType.Close) throw new ArgumentException("use CloseOutputAsync", nameof(messageType));
        var opcode = _sendingFragments ? Opcode.Continuation : messageType == WebSocketMessageType.Text ? Opcode.Text : Opcode.Binary;
        _sendingFragments = !endOfMessage;
        return SendLockedAsync(opcode, buffer, endOfMessage, cancellationToken);
    }

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    /// <summary>
    /// Sends a frame built beforehand (<see cref="NewTextFrame"/>) as one message; completes synchronously
    /// when the kernel takes it at once (the common case).
    /// </summary>
    public ValueTask SendFrameAsync(ReadOnlyMemory<byte> frame)
    {
        if (State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            throw new WebSocketException(WebSocketError.InvalidState, $"cannot send in state {State}");
        if (!_sendLock.Wait(0)) return SendAfterLockAsync(frame);
        return Released(WriteUnderLock(frame));
    }

    /// <summary>
    /// Sends frames built beforehand, each one message, in one write (one <c>sendmsg</c>); the list is read
    /// before this returns, so the caller may reuse it.
    /// </summary>
    public ValueTask SendFramesAsync(IList<ArraySegment<byte>> frames)
    {
        if (State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            throw new WebSocketException(WebSocketError.InvalidState, $"cannot send in state {State}");
        if (!_sendLock.Wait(0)) return SendAfterLockAsync(Concat(frames, skip: 0));
        ValueTask write;
        try { write = WriteAsync(frames); }
        catch
        {
            _sendLock.Release();
            throw;
        }
        return Released(write);
    }

    /// <summary>Writes one frame under the send lock; completes synchronously when the write does (the common case).</summary>
    private ValueTask SendLockedAsync(Opcode opcode, ReadOnlyMemory<byte> payload, bool fin, CancellationToken cancellationToken)
    {
        if (!_sendLock.Wait(0)) return SendAfterLockAsync(opcode, payload, fin, cancellationToken);
        return Released(WriteFrameUnderLock(opcode, payload, fin));
    }

    private ValueTask WriteUnderLock(ReadOnlyMemory<byte> frame)
    {
        try { return WriteAsync(frame); }
        catch
        {
            _sendLock.Release();
            throw;
        }
    }

    private ValueTask WriteFrameUnderLock(Opcode opcode, ReadOnlyMemory<byte> payload, bool fin)
    {
        try { return WriteFrame(opcode, payload, fin); }
        catch
        {
            _sendLock.Release();
            throw;
        }
    }

    /// <summary>Releases the send lock once <paramref name="write"/> is done.</summary>
    private ValueTask Released(ValueTask write)
    {
        if (!write.IsCompleted) return ReleaseAfterAsync(write);
        _sendLock.Release();
        return write;
    }

    private async ValueTask ReleaseAfterAsync(ValueTask write)
    {
        try { await write; }
        finally { _sendLock.Release(); }
    }

    private async ValueTask SendAfterLockAsync(ReadOnlyMemory<byte> frame)
    {
        await _sendLock.WaitAsync();
        try { await WriteAsync(frame); }
        finally { _sendLock.Release(); }
    }

    private async ValueTask SendAfterLockAsync(Opcode opcode, ReadOnlyMemory<byte> payload, bool fin, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try { await WriteFrame(opcode, payload, fin); }
        finally { _sendLock.Release(); }
    }

    /// <summary>One frame (unmasked: server frames are never masked), header and payload in one write.</summary>
    private ValueTask WriteFrame(Opcode opcode, ReadOnlyMemory<byte> payload, bool fin)
    {
        var frame = ArrayPool<byte>.Shared.Rent(MaxHeader + payload.Length);
        var headerLength = WriteHeader(frame, opcode, fin, payload.Length);
        payload.Span.CopyTo(frame.AsSpan(headerLength));
        var write = WriteAsync(frame.AsMemory(0, headerLength + payload.Length));
        if (!write.IsCompleted) return ReturnAfterAsync(write, frame);
        ArrayPool<byte>.Shared.Return(frame);
        return write;
    }

    private static async ValueTask ReturnAfterAsync(ValueTask write, byte[] rented)
    {
        try { await write; }
        finally { ArrayPool<byte>.Shared.Return(rented); }
    }

    private static int WriteHeader(Span<byte> header, Opcode opcode, bool fin, int payloadLength)
    {
        header[0] = (byte)((fin ? FinBit : 0) | (byte)opcode);
        if (payloadLength <= MaxControlPayload)
        {
            header[1] = (byte)payloadLength;
            return 2;
        }
        if (payloadLength <= ushort.MaxValue)
        {
            header[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)payloadLength);
            return 4;
        }
        header[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(header[2..], (ulong)payloadLength);
        return 10;
    }

    /// <summary>
    /// Bytes to the client, in order (callers hold the send lock, or own the socket still alone). On the
    /// socket: a non-blocking send, then an async send of what the kernel did not take; else the pipe.
    /// </summary>
    private ValueTask WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        if (_socket is null) return WriteToPipeAsync(bytes);
        int sent;
        SocketError error;
        try { sent = _socket.Send(bytes.Span, SocketFlags.None, out error); }
        catch (ObjectDisposedException) { throw Gone(); }
        if (sent == bytes.Length) return ValueTask.CompletedTask;
        if (error is not (SocketError.Success or SocketError.WouldBlock)) throw Gone();
        return SendRestAsync(_socket, bytes[sent..]);
    }

    private ValueTask WriteAsync(IList<ArraySegment<byte>> frames)
    {
        if (_socket is null)
        {
            foreach (var frame in frames) _output.Write(frame);
            return FlushAsync();
        }
        int sent;
        SocketError error;
        try { sent = _socket.Send(frames, SocketFlags.None, out error); }
        catch (ObjectDisposedException) { throw Gone(); }
        return AfterSend(frames, sent, failed: error is not (SocketError.Success or SocketError.WouldBlock));
    }

    /// <summary>After a non-blocking send of the frames took <paramref name="sent"/> bytes: the rest goes asynchronously; a failed socket throws.</summary>
    private ValueTask AfterSend(IList<ArraySegment<byte>> frames, int sent, bool failed)
    {
        var total = 0;
        foreach (var frame in frames) total += frame.Count;
        if (sent == total) return ValueTask.CompletedTask;
        if (failed) throw Gone();
        return SendRestAsync(_socket!, Concat(frames, sent));
    }

    /// <summary>
    /// Starts a write that a <see cref="SendRing"/> makes: false when another write is under way, the socket is
    /// closing, or frames go through the pipe. True: the send lock is held, and a reference on the socket's handle
    /// keeps <paramref name="fd"/> this socket's (a dispose cannot close it, nor a new socket reuse it) until
    /// <see cref="EndRingWrite"/>.
    /// </summary>
    internal bool TryBeginRingWrite(out int fd)
    {
        fd = -1;
        if (_socket is null || State is not (WebSocketState.Open or WebSocketState.CloseReceived) || !_sendLock.Wait(0)) return false;
        var referenced = false;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref referenced);
            fd = (int)_socket.SafeHandle.DangerousGetHandle();
            return true;
        }
        catch (ObjectDisposedException) { return false; }
        finally
        {
            if (!referenced) _sendLock.Release();
        }
    }

    /// <summary>
    /// Ends a ring write with the kernel's answer (<paramref name="result"/>: bytes sent, or -errno) as a
    /// <c>send()</c> ends (<see cref="AfterSend"/>), and releases the send lock once the rest is sent.
    /// </summary>
    internal ValueTask EndRingWrite(int result, IList<ArraySegment<byte>> frames)
    {
        const int eagain = -11;
        _socket!.SafeHandle.DangerousRelease();
        ValueTask rest;
        try { rest = AfterSend(frames, Math.Max(result, 0), failed: result < 0 && result != eagain); }
        catch
        {
            _sendLock.Release();
            throw;
        }
        return Released(rest);
    }

    /// <summary>The frames' bytes after the first <paramref name="skip"/>, in one array: the copy a write that has to wait keeps.</summary>
    private static byte[] Concat(IList<ArraySegment<byte>> frames, int skip)
    {
        var total = 0;
        foreach (var frame in frames) total += frame.Count;
        var rest = new byte[total - skip];
        var at = 0;
        foreach (var frame in frames)
        {
            var part = frame.AsSpan(Math.Min(skip, frame.Count));
            skip -= frame.Count - part.Length;
            part.CopyTo(rest.AsSpan(at));
            at += part.Length;
        }
        return rest;
    }

    private static async ValueTask SendRestAsync(Socket socket, ReadOnlyMemory<byte> rest)
    {
        try
        {
            while (!rest.IsEmpty) rest = rest[await socket.SendAsync(rest, SocketFlags.None)..];
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw Gone();
        }
    }

    private ValueTask WriteToPipeAsync(ReadOnlyMemory<byte> bytes)
    {
        _output.Write(bytes.Span);
        return FlushAsync();
    }

    private ValueTask FlushAsync()
    {
        var flush = _output.FlushAsync();
        if (!flush.IsCompletedSuccessfully) return ThrowIfEndedAsync(flush);
        ThrowIfEnded(flush.Result);
        return ValueTask.CompletedTask;
    }

    private static async ValueTask ThrowIfEndedAsync(ValueTask<FlushResult> flush) => ThrowIfEnded(await flush);

    private static void ThrowIfEnded(FlushResult result)
    {
        if (result.IsCanceled || result.IsCompleted) throw Gone();
    }

    private static WebSocketException Gone() => new(WebSocketError.ConnectionClosedPrematurely, "the connection is gone");

    public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        if (State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            throw new WebSocketException(WebSocketError.InvalidState, $"cannot close in state {State}");
        return SendCloseAsync(closeStatus, statusDescription, cancellationToken).AsTask();
    }

    private ValueTask SendCloseAsync(WebSocketCloseStatus status, string? description, CancellationToken cancellationToken)
    {
        var reason = Encoding.UTF8.GetBytes(description ?? "");
        var reasonLength = Math.Min(reason.Length, MaxControlPayload - 2);
        while (reasonLength < reason.Length && (reason[reasonLength] & 0xC0) == 0x80) reasonLength--; // cut between characters
        var payload = new byte[2 + reasonLength];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)status);
        reason.AsSpan(0, payload.Length - 2).CopyTo(payload.AsSpan(2));
        _state = (int)(State == WebSocketState.CloseReceived ? WebSocketState.Closed : WebSocketState.CloseSent);
        return SendLockedAsync(Opcode.Close, payload, fin: true, cancellationToken);
    }

    public override async Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        var receivedClose = State == WebSocketState.CloseReceived;
        await CloseOutputAsync(closeStatus, statusDescription, cancellationToken);
        var discard = new byte[256]; // what the client still sends before its close is dropped
        while (!receivedClose)
            receivedClose = (await ReceiveAsync(discard, cancellationToken)).MessageType == WebSocketMessageType.Close;
    }

    /// <summary>
    /// Drops the WebSocket without a close: a pending read ends, and so does a write waiting for room (on
    /// the socket: it is shut down). The connection itself is Kestrel's to close.
    /// </summary>
    public override void Abort()
    {
        if (State is WebSocketState.Closed or WebSocketState.Aborted) return;
        _state = (int)WebSocketState.Aborted;
        _input.CancelPendingRead();
        if (_socket is null) _output.CancelPendingFlush();
        else
        {
            try { _socket.Shutdown(SocketShutdown.Both); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { } // gone already
        }
    }

    public override void Dispose()
    {
        if (State is not (WebSocketState.Closed or WebSocketState.Aborted)) Abort();
    }

    private static WebSocketException Premature() => new(WebSocketError.ConnectionClosedPrematurely, "the client went away without a close");

    /// <summary>XORs with the 4-byte key starting at its low byte; returns the key rotated for the byte after.</summary>
    private static uint Unmask(Span<byte> bytes, uint mask)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] ^= (byte)mask;
            mask = BitOperations.RotateRight(mask, 8);
        }
        return mask;
    }

    internal enum Opcode : byte { Continuation = 0, Text = 1, Binary = 2, Close = 8, Ping = 9, Pong = 10 }

    /// <param name="Mask">The masking key with its first byte lowest.</param>
    internal readonly record struct FrameHeader(bool Fin, bool Reserved, Opcode Opcode, bool Masked, long Length, uint Mask)
    {
        /// <summary>The header at the start of <paramref name="data"/>, or null until all of it has arrived.</summary>
        public static FrameHeader? TryParse(ReadOnlySequence<byte> data, out int length)
        {
            Span<byte> head = stackalloc byte[14];
            var available = (int)Math.Min(data.Length, head.Length);
            data.Slice(0, available).CopyTo(head);
            length = 0;
            if (available < 2) return null;
            var masked = (head[1] & 0x80) != 0;
            long payload = head[1] & 0x7F;
            var at = 2;
            if (payload == 126)
            {
                if (available < 4) return null;
                payload = BinaryPrimitives.ReadUInt16BigEndian(head[2..]);
                at = 4;
            }
            else if (payload == 127)
            {
                if (available < 10) return null;
                payload = (long)BinaryPrimitives.ReadUInt64BigEndian(head[2..]); // negative when the top bit is set: refused
                at = 10;
            }
            uint mask = 0;
            if (masked)
            {
                if (available < at + 4) return null;
                mask = BinaryPrimitives.ReadUInt32LittleEndian(head[at..]);
                at += 4;
            }
            length = at;
            return new FrameHeader((head[0] & FinBit) != 0, (head[0] & 0x70) != 0, (Opcode)(head[0] & 0x0F), masked, payload, mask);
        }
    }
}
