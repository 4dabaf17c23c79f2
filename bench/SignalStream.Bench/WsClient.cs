using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;

namespace SignalStream.Bench;

/// <summary>
/// A minimal WebSocket client: one socket, one small buffer, one receive loop, no per-frame
/// allocation. ClientWebSocket costs several KB and a few allocations per message; at 10 000+
/// sockets sharing two cores with the server, the generator has to be cheaper than the thing it
/// measures. Speaks RFC 6455 text frames (client frames masked), answers pings, and the SignalR
/// JSON hub protocol on top when the target is the SignalR baseline.
/// </summary>
public sealed class WsClient
{
    private static readonly byte[] SignalRHandshake = "{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray();
    private static readonly byte[] SignalRPing = "{\"type\":6}\u001e"u8.ToArray();

    private readonly Swarm _swarm;
    private readonly Lock _sendLock = new();
    private Socket? _socket;
    private byte[] _buffer;
    private int _start, _end, _need;
    private byte[]? _fragment;
    private int _fragmentLength;
    private Task? _loop;

    public WsClient(Swarm swarm, int index, int tier, string? token, bool slow)
    {
        _swarm = swarm;
        Index = index;
        Tier = tier;
        Token = token;
        Slow = slow;
        _buffer = new byte[slow ? 1024 : 2048];
    }

    public int Index { get; }
    public int Tier { get; }
    public string? Token { get; }
    public bool Slow { get; }

    /// <summary>Newest seq received (or, before any, the welcome's last_seq): what a resume asks after.</summary>
    public long LastSeq;
    public volatile bool Welcomed;
    public volatile bool Open;
    public long ResumedAt;
    public int CloseCode;
    public int LastStatus;

    // The measurement window: which signals (by publisher index k) arrived, and what went wrong.
    public ulong[]? Seen;
    public int Valid, Duplicates, Forbidden, OutOfOrder, Stray;
    public long WindowLastSeq;

    private Microsoft.AspNetCore.SignalR.Client.HubConnection? _hub;

    /// <summary>
    /// The SignalR target through the official client (<c>--signalr-client official</c>): one HubConnection
    /// (WebSockets, no negotiation, bearer token) per client; each invocation's argument is handed to the
    /// same frame handler as its raw JSON.
    /// </summary>
    private async Task<bool> ConnectOfficialAsync(string host, string path, CancellationToken ct)
    {
        var hub = new Microsoft.AspNetCore.SignalR.Client.HubConnectionBuilder()
            .WithUrl($"http://{host}{path}", o =>
            {
                o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
                o.AccessTokenProvider = () => Task.FromResult(Token);
            })
            .Build();
        hub.On<System.Text.Json.JsonElement>("signal", e => _swarm.OnFrame(this, Encoding.UTF8.GetBytes(e.GetRawText())));
        hub.On<System.Text.Json.JsonElement>("welcome", e => _swarm.OnFrame(this, Encoding.UTF8.GetBytes(e.GetRawText())));
        hub.Closed += _ => { Open = false; return Task.CompletedTask; };
        try
        {
            await hub.StartAsync(ct);
            _hub = hub;
            Open = true;
            LastStatus = 101;
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or System.Net.WebSockets.WebSocketException or InvalidOperationException)
        {
            LastStatus = e is HttpRequestException { StatusCode: { } code } ? (int)code : 0;
            await hub.DisposeAsync();
            return false;
        }
    }

    public async Task<bool> ConnectAsync(IPEndPoint server, string host, string pathAndQuery, CancellationToken ct)
    {
        if (_swarm.OfficialSignalRClient)
        {
            Welcomed = false;
            LastStatus = 0;
            return await ConnectOfficialAsync(host, pathAndQuery, ct);
        }
        if (_loop is { } previous) await previous; // the old loop owns the buffer until it ends
        Welcomed = false;
        ResumedAt = 0;
        LastStatus = 0;
        _start = _end = _need = 0;
        _fragmentLength = 0;
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // Abortive close: no TIME_WAIT left on the generator's side to exhaust the port range.
        socket.LingerState = new LingerOption(true, 0);
        if (Slow) socket.ReceiveBufferSize = 4096;
        try
        {
            await socket.ConnectAsync(server, ct);
            var request = new StringBuilder(256)
                .Append("GET ").Append(pathAndQuery).Append(" HTTP/1.1\r\nHost: ").Append(host)
                .Append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
            if (Token is not null) request.Append("Authorization: Bearer ").Append(Token).Append("\r\n");
            request.Append("\r\n");
            await socket.SendAsync(Encoding.ASCII.GetBytes(request.ToString()), SocketFlags.None, ct);

            var headerEnd = -1;
            while (headerEnd < 0)
            {
                if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
                var read = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, ct);
                if (read == 0) throw new SocketException((int)SocketError.ConnectionReset);
                _end += read;
                headerEnd = _buffer.AsSpan(0, _end).IndexOf("\r\n\r\n"u8);
            }
            // "HTTP/1.1 101 Switching Protocols"
            LastStatus = _end >= 12 && int.TryParse(Encoding.ASCII.GetString(_buffer, 9, 3), out var status) ? status : 0;
            if (LastStatus != 101)
            {
                socket.Dispose();
                return false;
            }
            _start = headerEnd + 4;
            _socket = socket;
            Open = true;
            if (_swarm.Kind == TargetKind.SignalR) SendText(SignalRHandshake);
            if (Slow)
            {
                // A client that stopped reading: it never takes a byte after the handshake. Counted as connected.
                Welcomed = true;
                _swarm.OnWelcome(this);
            }
            else
            {
                _loop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
            }
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            socket.Dispose();
            return false;
        }
    }

    /// <summary>Drops the connection at once (RST), as a crashed client or a dead network would.</summary>
    public void Abort()
    {
        Open = false;
        if (Interlocked.Exchange(ref _hub, null) is { } hub) _ = hub.DisposeAsync().AsTask();
        var socket = Interlocked.Exchange(ref _socket, null);
        socket?.Dispose();
    }

    public void SendSignalRPing()
    {
        if (Open && _hub is null) SendText(SignalRPing); // HubConnection pings by itself
    }

    private async Task ReceiveLoopAsync()
    {
        var socket = _socket;
        try
        {
            while (socket is not null)
            {
                if (!ParseFrames()) break;
                if (_start == _end) _start = _end = 0;
                else if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                if (_need > _buffer.Length || _end == _buffer.Length) Array.Resize(ref _buffer, Math.Max(_need, _buffer.Length * 2));
                var read = await socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None);
                if (read == 0) break;
                _end += read;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            if (ReferenceEquals(_socket, socket)) Abort();
            _swarm.OnClosed(this);
        }
    }

    /// <summary>Handles every complete frame in the buffer; false once a close frame came.</summary>
    private bool ParseFrames()
    {
        while (true)
        {
            var available = _end - _start;
            if (available < 2) return true;
            var span = _buffer.AsSpan(_start, available);
            var b0 = span[0];
            var b1 = span[1];
            var header = 2;
            long length = b1 & 0x7F;
            if (length == 126)
            {
                if (available < 4) return true;
                length = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
                header = 4;
            }
            else if (length == 127)
            {
                if (available < 10) return true;
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(span[2..]);
                header = 10;
            }
            if ((b1 & 0x80) != 0) header += 4; // servers do not mask; tolerate it anyway by skipping the key
            var total = header + length;
            if (total > available)
            {
                _need = (int)total;
                return true;
            }
            _need = 0;
            var payload = span.Slice(header, (int)length);
            var opcode = b0 & 0x0F;
            var fin = (b0 & 0x80) != 0;
            switch (opcode)
            {
                case 0x0:
                    AppendFragment(payload);
                    if (fin) { OnMessage(_fragment.AsSpan(0, _fragmentLength)); _fragmentLength = 0; }
                    break;
                case 0x1:
                case 0x2:
                    if (fin) OnMessage(payload);
                    else { _fragmentLength = 0; AppendFragment(payload); }
                    break;
                case 0x8:
                    CloseCode = length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
                    return false;
                case 0x9:
                    SendFrame(0xA, payload);
                    break;
            }
            _start += (int)total;
        }
    }

    private void AppendFragment(ReadOnlySpan<byte> payload)
    {
        _fragment ??= new byte[Math.Max(4096, payload.Length * 2)];
        if (_fragmentLength + payload.Length > _fragment.Length) Array.Resize(ref _fragment, (_fragmentLength + payload.Length) * 2);
        payload.CopyTo(_fragment.AsSpan(_fragmentLength));
        _fragmentLength += payload.Length;
    }

    private void OnMessage(ReadOnlySpan<byte> message)
    {
        if (_swarm.Kind != TargetKind.SignalR)
        {
            _swarm.OnFrame(this, message);
            return;
        }
        // SignalR JSON hub protocol: records separated by 0x1E. {} is the handshake answer,
        // {"type":6} a ping, {"type":7,...} a close, {"type":1,"target":"signal","arguments":[...]} an invocation.
        while (message.Length > 0)
        {
            var end = message.IndexOf((byte)0x1E);
            var record = end < 0 ? message : message[..end];
            message = end < 0 ? default : message[(end + 1)..];
            if (record.StartsWith("{\"type\":1,"u8)) _swarm.OnFrame(this, record);
            else if (record.StartsWith("{\"type\":7"u8)) CloseCode = 1000;
        }
    }

    private void SendText(ReadOnlySpan<byte> payload) => SendFrame(0x1, payload);

    private void SendFrame(int opcode, ReadOnlySpan<byte> payload)
    {
        var socket = _socket;
        if (socket is null || payload.Length > 125) return;
        Span<byte> frame = stackalloc byte[6 + 125];
        frame[0] = (byte)(0x80 | opcode);
        frame[1] = (byte)(0x80 | payload.Length);
        // A fixed mask is as good as any for a benchmark; the server only needs the bit set.
        frame[2] = 0x12; frame[3] = 0x34; frame[4] = 0x56; frame[5] = 0x78;
        for (var i = 0; i < payload.Length; i++) frame[6 + i] = (byte)(payload[i] ^ frame[2 + (i & 3)]);
        try
        {
            lock (_sendLock) socket.Send(frame[..(6 + payload.Length)], SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }
}
