using System.Diagnostics;
using System.Net.WebSockets;
using System.Threading.Channels;
using SignalStream.Protocol;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Streaming;

/// <summary>
/// The outbound side of one WebSocket: its filter, its bounded queue and the one writer that drains
/// it. Broadcasts only ever <see cref="Offer"/> a frame: they never wait on the socket. A connection
/// starts out holding live frames aside until its welcome (and any replay) is queued; see
/// <see cref="GoLive"/>.
/// </summary>
public sealed class StreamConnection
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<OutboundFrame> _queue;
    private readonly int _pendingCapacity;
    private readonly ServerMetrics _metrics;
    private readonly CancellationTokenSource _abort = new();
    private readonly Lock _sync = new();
    private volatile ConnectionFilter _filter;
    private List<OutboundFrame>? _pending = [];
    private long _lastQueuedSeq;
    private WebSocket? _socket;
    private int _closeCode;
    private string _closeReason = "";
    private bool _drainOnClose;
    private long _tokenExpiresAtTicks;
    private int _expiryNoticeSent;

    public StreamConnection(string userId, ConnectionFilter filter, DateTimeOffset tokenExpiresAt, int queueCapacity, int pendingCapacity, ServerMetrics metrics)
    {
        Id = Ids.New();
        UserId = userId;
        _filter = filter;
        _tokenExpiresAtTicks = tokenExpiresAt.UtcTicks;
        _pendingCapacity = pendingCapacity;
        _metrics = metrics;
        _queue = Channel.CreateBounded<OutboundFrame>(new BoundedChannelOptions(queueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full; that failure is the overflow signal
        });
    }

    public string Id { get; }
    public string UserId { get; }
    public ConnectionFilter Filter => _filter;
    public Tier Tier => _filter.Tier;
    public int QueueDepth => _queue.Reader.Count;
    public int CloseCode => Volatile.Read(ref _closeCode);
    public bool IsClosing => CloseCode != 0;
    public DateTimeOffset TokenExpiresAt => new(Interlocked.Read(ref _tokenExpiresAtTicks), TimeSpan.Zero);
    public CancellationToken Aborted => _abort.Token;

    /// <summary>Slot in the hub's list, for O(1) removal. Owned by the hub.</summary>
    internal int HubIndex { get; set; } = -1;

    public void Attach(WebSocket socket) => _socket = socket;

    /// <summary>Offered every broadcast signal, one at a time, in seq order.</summary>
    public void Offer(OutboundFrame frame)
    {
        if (!_filter.Allows(frame)) return;
        lock (_sync)
        {
            if (_pending is { } pending)
            {
                if (pending.Count < _pendingCapacity) pending.Add(frame);
                else Overflow("replay buffer");
                return;
            }
            if (frame.Seq <= _lastQueuedSeq) return;
            if (_queue.Writer.TryWrite(frame)) _lastQueuedSeq = frame.Seq;
            else Overflow("outbound queue");
        }
    }

    /// <summary>Queues a control frame (welcome, pong, error...). A full queue means a slow consumer.</summary>
    public void Send(OutboundFrame frame)
    {
        if (!_queue.Writer.TryWrite(frame) && !IsClosing) Overflow("outbound queue");
    }

    /// <summary>Queues a replayed frame, waiting for room: replay runs on the connection's own task.</summary>
    public ValueTask SendReplayAsync(OutboundFrame frame, CancellationToken ct)
    {
        _lastQueuedSeq = Math.Max(_lastQueuedSeq, frame.Seq); // only this task writes it while frames are held
        return _queue.Writer.WriteAsync(frame, ct);
    }

    /// <summary>Holds live frames aside while history is replayed.</summary>
    public void HoldLive()
    {
        lock (_sync) _pending ??= [];
    }

    /// <summary>Releases held live frames newer than <paramref name="sentUpTo"/>, then delivers live.</summary>
    public void GoLive(long sentUpTo)
    {
        lock (_sync)
        {
            _lastQueuedSeq = Math.Max(_lastQueuedSeq, sentUpTo);
            var pending = _pending;
            _pending = null;
            foreach (var frame in pending ?? [])
            {
                if (frame.Seq <= _lastQueuedSeq) continue;
                if (!_queue.Writer.TryWrite(frame)) { Overflow("outbound queue"); return; }
                _lastQueuedSeq = frame.Seq;
            }
        }
    }

    public void ChangeSymbols(IEnumerable<string>? symbols) => _filter = _filter with { Symbols = ConnectionFilter.ToSymbolSet(symbols) };

    /// <summary>Applies a tier change or a disable; true when something changed.</summary>
    public bool ApplyUser(UserRecord user)
    {
        if (user.Disabled)
        {
            RequestClose(CloseCodes.UserDisabled, "user disabled");
            return true;
        }
        if (user.Tier == _filter.Tier) return false;
        _filter = _filter with { Tier = user.Tier };
        Send(OutboundFrame.Control(new TierChangedMessage(user.Tier), Protocol.ProtocolJson.Default.TierChangedMessage));
        return true;
    }

    public void ExtendToken(DateTimeOffset expiresAt)
    {
        Interlocked.Exchange(ref _tokenExpiresAtTicks, expiresAt.UtcTicks);
        Interlocked.Exchange(ref _expiryNoticeSent, 0);
    }

    /// <summary>Sends <c>token_expiring</c> once, <paramref name="notice"/> before expiry; closes 4001 at expiry.</summary>
    public void CheckToken(DateTimeOffset now, TimeSpan notice)
    {
        var expiresAt = TokenExpiresAt;
        if (now >= expiresAt) RequestClose(CloseCodes.TokenExpired, "token expired");
        else if (now >= expiresAt - notice && Interlocked.Exchange(ref _expiryNoticeSent, 1) == 0)
            Send(OutboundFrame.Control(new TokenExpiringMessage(expiresAt), Protocol.ProtocolJson.Default.TokenExpiringMessage));
    }

    /// <summary>
    /// Asks the writer to close with <paramref name="code"/>: after flushing the queue when
    /// <paramref name="drain"/>, otherwise at once. The first request wins. A client that does
    /// not take the close within a few seconds is aborted.
    /// </summary>
    public void RequestClose(int code, string reason, bool drain = false)
    {
        if (Interlocked.CompareExchange(ref _closeCode, code, 0) != 0) return;
        _closeReason = reason;
        _drainOnClose = drain;
        _queue.Writer.TryComplete();
        _abort.CancelAfter(CloseTimeout);
    }

    /// <summary>The one writer: drains the queue to the socket, then sends the close frame.</summary>
    public async Task RunWriterAsync()
    {
        var socket = _socket ?? throw new InvalidOperationException("Attach a socket first");
        var reader = _queue.Reader;
        var ct = _abort.Token;
        try
        {
            while (await reader.WaitToReadAsync(ct))
            {
                while (reader.TryRead(out var frame))
                {
                    if (IsClosing && !_drainOnClose) break;
                    if (frame.IsSignal && !_filter.Allows(frame)) continue; // the tier dropped while it waited
                    await socket.SendAsync(frame.Utf8, WebSocketMessageType.Text, endOfMessage: true, ct);
                    if (frame.IsSignal)
                    {
                        _metrics.Deliveries.Inc();
                        if (frame.IngestTimestamp != 0) _metrics.DeliveryLatency.Observe(Stopwatch.GetElapsedTime(frame.IngestTimestamp).TotalSeconds);
                    }
                }
                if (IsClosing && !_drainOnClose) break;
            }
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await socket.CloseOutputAsync((WebSocketCloseStatus)Math.Max(CloseCode, CloseCodes.Normal), _closeReason, ct);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // A failed or stuck send ends only this connection.
            RequestClose(CloseCodes.InternalError, "send failed");
            socket.Abort();
        }
        finally
        {
            var dropped = 0;
            while (reader.TryRead(out _)) dropped++;
            if (dropped > 0) _metrics.Drops.WithLabels("closed").Inc(dropped);
        }
    }

    /// <summary>Ends the connection's pending receive: used once the close handshake had its time.</summary>
    public void Abort() => _abort.Cancel();

    private void Overflow(string what)
    {
        _metrics.Drops.WithLabels("slow_consumer").Inc();
        RequestClose(CloseCodes.SlowConsumer, $"slow consumer: {what} full");
    }
}
