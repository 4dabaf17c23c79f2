using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// A deliberately impolite WebSocket client on a bare <see cref="TcpClient"/>: it writes the HTTP
/// upgrade itself and encodes every frame by hand, so it can send what no client library will
/// (oversized or lying length headers, binary, invalid UTF-8, broken fragmentation, no pongs,
/// a vanished peer). It answers nothing on its own: pings are answered only when asked to.
/// </summary>
public sealed class RawWebSocket : IAsyncDisposable
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30); // a ceiling: every wait returns with its frame

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start, _end; // unread bytes are _buffer[_start.._end]

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>The status of the upgrade response: 101 when the socket is open.</summary>
    public int Status { get; private set; }
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>The body of a refused upgrade (a problem document).</summary>
    public string Body { get; private set; } = "";
    public bool IsOpen => Status == 101;
    public Socket Socket => _tcp.Client;
    /// <summary>Answer protocol pings with pongs, as a live client would.</summary>
    public bool AnswerPings { get; set; }
    /// <summary>Text frames read while waiting for something else.</summary>
    public List<string> Texts { get; } = [];

    /// <param name="pathAndQuery">For example <c>/ws/signals?token=...</c>.</param>
    /// <param name="receiveBufferBytes">The kernel receive buffer, set before connecting (a small one makes a slow reader slow sooner).</param>
    public static async Task<RawWebSocket> ConnectAsync(Uri baseUri, string pathAndQuery, IEnumerable<(string Name, string Value)>? headers = null, int receiveBufferBytes = 0, RawHandshake? style = null)
    {
        var tcp = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        if (receiveBufferBytes > 0) tcp.ReceiveBufferSize = receiveBufferBytes;
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await tcp.ConnectAsync(baseUri.Host, baseUri.Port, timeout.Token);
        var socket = new RawWebSocket(tcp);
        try
        {
            await socket.HandshakeAsync(baseUri, pathAndQuery, headers ?? [], style ?? new RawHandshake(), timeout.Token);
        }
        catch
        {
            await socket.DisposeAsync();
            throw;
        }
        return socket;
    }

    private async Task HandshakeAsync(Uri baseUri, string pathAndQuery, IEnumerable<(string Name, string Value)> headers, RawHandshake style, CancellationToken ct)
    {
        if (style.SilenceFirst > TimeSpan.Zero) await Task.Delay(style.SilenceFirst, ct); // the scenario: a socket opened ahead of need
        if (style.PrecedingRequest is { } preceding)
        {
            await _stream.WriteAsync(Encoding.ASCII.GetBytes(preceding), ct);
            await ReadResponseAsync(ct);
            Headers.Clear();
            Body = "";
        }

        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var request = new StringBuilder()
            .Append("GET ").Append(pathAndQuery).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(baseUri.Authority).Append("\r\n")
            .Append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
            .Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n")
            .Append("Sec-WebSocket-Version: 13\r\n");
        foreach (var (name, value) in headers) request.Append(name).Append(": ").Append(value).Append("\r\n");
        request.Append("\r\n");
        byte[] bytes = [.. Encoding.ASCII.GetBytes(request.ToString()), .. style.FollowedBy ?? []];
        var piece = (bytes.Length + style.Pieces - 1) / style.Pieces;
        for (var at = 0; at < bytes.Length; at += piece)
        {
            if (at > 0) await Task.Delay(50, ct); // the scenario itself: a request that arrives in pieces
            await _stream.WriteAsync(bytes.AsMemory(at, Math.Min(piece, bytes.Length - at)), ct);
        }

        await ReadResponseAsync(ct);
        if (Status == 101)
        {
            var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
            if (Headers.GetValueOrDefault("Sec-WebSocket-Accept") != expected) throw new InvalidOperationException("bad Sec-WebSocket-Accept");
        }
    }

    /// <summary>Reads a response head into <see cref="Status"/> and <see cref="Headers"/>, and its body unless it is a 101.</summary>
    private async Task ReadResponseAsync(CancellationToken ct)
    {
        // Response head, up to the blank line; whatever follows it is already frame data (or the body).
        int headEnd;
        while ((headEnd = IndexOfHeadEnd()) < 0)
            if (!await FillAsync(ct)) throw new IOException("connection closed during the handshake");
        var head = Encoding.ASCII.GetString(_buffer, _start, headEnd - _start);
        _start = headEnd + 4;
        var lines = head.Split("\r\n");
        Status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0) Headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        if (Status == 101) return;
        if (Headers.TryGetValue("Content-Length", out var lengthText) && int.TryParse(lengthText, out var length))
        {
            if (await EnsureAsync(length, ct))
            {
                Body = Encoding.UTF8.GetString(_buffer, _start, length);
                _start += length;
            }
        }
        else if (Headers.GetValueOrDefault("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
        {
            var body = new StringBuilder();
            while (true)
            {
                int lineEnd;
                while ((lineEnd = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
                    if (!await FillAsync(ct)) return;
                var size = Convert.ToInt32(Encoding.ASCII.GetString(_buffer, _start, lineEnd).Split(';')[0].Trim(), 16);
                _start += lineEnd + 2;
                if (!await EnsureAsync(size + 2, ct)) return;
                body.Append(Encoding.UTF8.GetString(_buffer, _start, size));
                _start += size + 2;
                if (size == 0) break;
            }
            Body = body.ToString();
        }
    }

    private int IndexOfHeadEnd() => _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8) is var i and >= 0 ? _start + i : -1;

    // ---- sending ----

    /// <summary>The bytes of one masked client frame.</summary>
    /// <param name="declaredLength">The length the header claims; defaults to the payload's. A larger one is a lie the server must not wait out.</param>
    public static byte[] EncodeFrame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, long? declaredLength = null, int rsv = 0)
    {
        var length = declaredLength ?? payload.Length;
        var headerLength = 2 + (length < 126 ? 0 : length <= ushort.MaxValue ? 2 : 8) + 4;
        var frame = new byte[headerLength + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode);
        var at = 2;
        if (length < 126) frame[1] = (byte)(0x80 | length);
        else if (length <= ushort.MaxValue)
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)length);
            at += 2;
        }
        else
        {
            frame[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)length);
            at += 8;
        }
        var mask = RandomNumberGenerator.GetBytes(4);
        mask.CopyTo(frame, at);
        at += 4;
        for (var i = 0; i < payload.Length; i++) frame[at + i] = (byte)(payload[i] ^ mask[i % 4]);
        return frame;
    }

    public Task SendFrameAsync(int opcode, ReadOnlySpan<byte> payload, bool fin = true, long? declaredLength = null) =>
        SendBytesAsync(EncodeFrame(opcode, payload, fin, declaredLength));

    public Task SendTextAsync(string text) => SendFrameAsync(RawFrame.Text, Encoding.UTF8.GetBytes(text));

    public async Task SendBytesAsync(ReadOnlyMemory<byte> bytes)
    {
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await _stream.WriteAsync(bytes, timeout.Token);
    }

    /// <summary>A close frame with <paramref name="code"/>, as a polite client answers the server's close.</summary>
    public Task SendCloseAsync(int code = 1000)
    {
        var payload = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        return SendFrameAsync(RawFrame.Close, payload);
    }

    // ---- receiving ----

    /// <summary>The next frame, or null when the server closed (or reset) the TCP connection.</summary>
    public async Task<RawFrame?> ReceiveFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            if (!await EnsureAsync(2, cts.Token)) return null;
            var b0 = _buffer[_start];
            var b1 = _buffer[_start + 1];
            var lengthBytes = (b1 & 0x7F) switch { 126 => 2, 127 => 8, _ => 0 };
            var maskBytes = (b1 & 0x80) != 0 ? 4 : 0;
            if (!await EnsureAsync(2 + lengthBytes + maskBytes, cts.Token)) return null;
            long length = (b1 & 0x7F) switch
            {
                126 => BinaryPrimitives.ReadUInt16BigEndian(_buffer.AsSpan(_start + 2)),
                127 => (long)BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(_start + 2)),
                var l => l,
            };
            var headerLength = 2 + lengthBytes + maskBytes;
            if (!await EnsureAsync(headerLength + (int)length, cts.Token)) return null;
            var payload = _buffer.AsSpan(_start + headerLength, (int)length).ToArray();
            if (maskBytes > 0)
                for (var i = 0; i < payload.Length; i++) payload[i] ^= _buffer[_start + 2 + lengthBytes + (i % 4)];
            _start += headerLength + (int)length;
            var frame = new RawFrame((b0 & 0x80) != 0, b0 & 0x0F, payload);
            if (frame.Opcode == RawFrame.Ping && AnswerPings) await SendFrameAsync(RawFrame.Pong, payload);
            return frame;
        }
        catch (IOException)
        {
            return null; // reset by the server
        }
    }

    /// <summary>
    /// Reads until the server's close frame, keeping text frames in <see cref="Texts"/>; answers its
    /// close code, or 0 when the TCP connection ended without one. Fails on timeout.
    /// </summary>
    public async Task<int> ExpectCloseAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException("no close frame in time");
            RawFrame? frame;
            try { frame = await ReceiveFrameAsync(left); }
            catch (OperationCanceledException) { throw new TimeoutException("no close frame in time"); }
            if (frame is null) return 0;
            if (frame.Opcode == RawFrame.Close) return frame.CloseCode;
            if (frame.Opcode == RawFrame.Text) Texts.Add(frame.AsText);
        }
    }

    /// <summary>Reads frames until the next text frame; fails on close or timeout.</summary>
    public async Task<string> ExpectTextAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var frame = await ReceiveFrameAsync(deadline - DateTime.UtcNow) ?? throw new InvalidOperationException("connection closed");
            if (frame.Opcode == RawFrame.Close) throw new InvalidOperationException($"closed with {frame.CloseCode} while waiting for a text frame");
            if (frame.Opcode == RawFrame.Text)
            {
                Texts.Add(frame.AsText);
                return frame.AsText;
            }
        }
    }

    /// <summary>Reads (and discards) until the server ends the TCP connection; true when it did within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForEndOfStreamAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await FillAsync(cts.Token)) _start = _end;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Vanishes like a killed process whose kernel answers with a reset: no close frame, no FIN.</summary>
    public void Reset()
    {
        _tcp.Client.LingerState = new LingerOption(true, 0);
        _tcp.Client.Close();
    }

    private async Task<bool> EnsureAsync(int count, CancellationToken ct)
    {
        while (_end - _start < count)
            if (!await FillAsync(ct)) return false;
        return true;
    }

    private async Task<bool> FillAsync(CancellationToken ct)
    {
        if (_start > 0 && _start == _end) _start = _end = 0;
        if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), ct);
        _end += read;
        return read > 0;
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Asserts the upgrade was refused with <paramref name="expected"/> and a problem body, never accepted.</summary>
    public void AssertProblem(HttpStatusCode expected)
    {
        Assert.Equal((int)expected, Status);
        Assert.False(Headers.ContainsKey("Sec-WebSocket-Accept"));
        Assert.StartsWith("application/problem+json", Headers.GetValueOrDefault("Content-Type"), StringComparison.Ordinal);
        using var problem = JsonDocument.Parse(Body);
        Assert.Equal((int)expected, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("title").GetString()));
    }
}
