using System.Diagnostics;
using System.Net.WebSockets;
using SignalStream.Protocol;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;
using SignalStream.Server.Transport;

namespace SignalStream.Server.Fanout;

/// <summary>
/// The outbound side of one WebSocket: its filter, its bounded queue and its sender. A frame for an
/// idle socket is written at once, on the caller's thread (for a broadcast, its fan-out shard's), so
/// a delivery costs no thread-pool hop and no per-connection writer task; only a socket that is
/// busy (its last write has not completed) queues, and the write that completes drains the queue.
/// Broadcasts never wait on a socket: a full queue is a slow consumer (4004). A connection starts
/// out holding live frames aside until its welcome (and any replay) is queued; see <see cref="GoLive"/>.
/// </summary>
public sealed class StreamConnection
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    /// <summary>The most frames in one write: what the runtime gathers without allocating (Linux's UIO_FASTIOV).</summary>
    internal const int MaxBatch = 8;

    [ThreadStatic] private static Outbound[]? _batch;
    [ThreadStatic] private static List<ArraySegment<byte>>? _frames;

    private readonly Lock _sync = new();
    private readonly Queue<Outbound> _queue = new();
    private readonly int _queueCapacity;
    private readonly int _pendingCapacity;
    private readonly ServerMetrics _metrics;
    private readonly CancellationTokenSource _abort = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile ConnectionFilter _filter;
    private List<OutboundFrame>? _pending = [];
    private long _lastQueuedSeq; // the newest signal queued here, live or replayed: nothing at or below it is queued again
    private WebSocket? _socket;
    /// <summary>Our own WebSocket takes pre-built frames, several in one write; any other, one message at a time.</summary>
    private PipeWebSocket? FrameSocket => _socket as PipeWebSocket;
    private IStreamTransport? _transport;
    private CancellationTokenRegistration _abortTransport;
    private bool _sending; // a sender owns the socket; everyone else queues
    private bool _closeStarted;
    private TaskCompletionSource? _roomForReplay;
    private int _closeCode;
    private string _closeReason = "";
    private long _tokenExpiresAtTicks;
    private int _expiryNoticeSent;

    public StreamConnection(string userId, ConnectionFilter filter, DateTimeOffset tokenExpiresAt, int queueCapacity, int pendingCapacity, ServerMetrics metrics)
    {
        Id = Ids.New();
        UserId = userId;
        _filter = filter;
        _tokenExpiresAtTicks = tokenExpiresAt.UtcTicks;
        _queueCapacity = queueCapacity;
        _pendingCapacity = pendingCapacity;
        _metrics = metrics;
    }

    public string Id { get; }
    public string UserId { get; }
    public ConnectionFilter Filter => _filter;
    public Tier Tier => _filter.Tier;
    /// <summary>Frames waiting for a busy socket (a racy read: for metrics and tests).</summary>
    public int QueueDepth => _queue.Count;
    public int CloseCode => Volatile.Read(ref _closeCode);
    public bool IsClosing => CloseCode != 0;
    /// <summary>Why the server closed it (with <see cref="CloseCode"/>); complete once <see cref="Closed"/> is.</summary>
    public string CloseReason => Volatile.Read(ref _closeReason);
    public DateTimeOffset TokenExpiresAt => new(Interlocked.Read(ref _tokenExpiresAtTicks), TimeSpan.Zero);
    public CancellationToken Aborted => _abort.Token;
    /// <summary>Completes once the close frame was sent, or the socket failed.</summary>
    public Task Closed => _closed.Task;

    /// <summary>The hub's fan-out shard and slot in its list, for O(1) removal. Owned by the hub.</summary>
    internal int Shard { get; set; }
    internal int HubIndex { get; set; } = -1;

    /// <param name="transport">Aborted when a close is not done within the close timeout (sends carry no token).</param>
    public void Attach(WebSocket socket, IStreamTransport? transport = null)
    {
        bool send;
        lock (_sync)
        {
            _socket = socket;
            _transport = transport;
            if (IsClosing) AbortTransportOnTimeout();
            send = ClaimSender();
        }
        if (send) SendQueued();
    }

    /// <summary>
    /// Offered every broadcast signal, one at a time, in seq order. With <paramref name="send"/> false the
    /// frame only queues: its fan-out shard offers a run of signals at once, and the last offer sends them
    /// all in one write. With a <paramref name="batch"/>, a write that would be made at once joins it instead.
    /// </summary>
    public OfferResult Offer(OutboundFrame frame, bool send = true, SendBatch? batch = null)
    {
        if (!_filter.Allows(frame))
        {
            // A racy read, and enough: the frames this run queued were queued by this thread.
            if (send && _queue.Count > 0) Flush(batch);
            return OfferResult.Filtered;
        }
        OfferResult result;
        bool sendNow;
        lock (_sync)
        {
            result = QueueLive(frame);
            sendNow = send && ClaimSender();
        }
        if (sendNow) SendQueued(batch);
        return result;
    }

    private OfferResult QueueLive(OutboundFrame frame)
    {
        if (_pending is { } pending)
        {
            if (pending.Count < _pendingCapacity)
            {
                pending.Add(frame);
                return OfferResult.Queued;
            }
            Overflow("replay buffer");
            return OfferResult.Dropped;
        }
        if (frame.Seq <= _lastQueuedSeq || IsClosing) return OfferResult.Filtered;
        if (!TryQueue(new Outbound(frame, Live: true), "outbound queue")) return OfferResult.Dropped;
        _lastQueuedSeq = frame.Seq;
        return OfferResult.Queued;
    }

    /// <summary>Sends what is queued, unless a write is already under way (it sends the rest).</summary>
    public void Flush(SendBatch? batch = null)
    {
        bool send;
        lock (_sync) send = ClaimSender();
        if (send) SendQueued(batch);
    }

    /// <summary>
    /// Queues a control frame (welcome, pong, error...). A full queue means a slow consumer. With
    /// <paramref name="flush"/> false it waits for the next send (the welcome waits for its replay, so the
    /// two go out in one write).
    /// </summary>
    public void Send(OutboundFrame frame, bool flush = true)
    {
        bool send;
        lock (_sync)
        {
            if (IsClosing || !TryQueue(new Outbound(frame, Live: false), "outbound queue")) return;
            send = flush && ClaimSender();
        }
        if (send) SendQueued();
    }

    /// <summary>
    /// Queues a replayed frame, waiting for room: replay runs on the connection's own task. Replayed
    /// frames go out when the queue fills or the next frame is sent (the replay's <c>replay_complete</c>),
    /// several to a write, not one <c>send()</c> each. False, and nothing queued, for a frame at or below
    /// the newest one this connection already queued: a <c>resume</c> on a socket that has been live never
    /// repeats what it got.
    /// </summary>
    public async ValueTask<bool> SendReplayAsync(OutboundFrame frame, CancellationToken ct)
    {
        while (true)
        {
            Task room;
            bool send;
            lock (_sync)
            {
                if (IsClosing || frame.Seq <= _lastQueuedSeq) return false;
                if (_queue.Count >= _queueCapacity)
                {
                    room = (_roomForReplay ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                    send = ClaimSender();
                }
                else
                {
                    _queue.Enqueue(new Outbound(frame, Live: false));
                    _lastQueuedSeq = frame.Seq;
                    return true;
                }
            }
            if (send) SendQueued();
            await room.WaitAsync(ct);
        }
    }

    /// <summary>Holds live frames aside while history is replayed.</summary>
    public void HoldLive()
    {
        lock (_sync) _pending ??= [];
    }

    /// <summary>Releases held live frames newer than <paramref name="sentUpTo"/>, then delivers live.</summary>
    public void GoLive(long sentUpTo)
    {
        bool send;
        lock (_sync)
        {
            _lastQueuedSeq = Math.Max(_lastQueuedSeq, sentUpTo);
            var pending = _pending;
            _pending = null;
            foreach (var frame in pending ?? [])
            {
                if (frame.Seq <= _lastQueuedSeq || IsClosing) continue;
                if (!TryQueue(new Outbound(frame, Live: true), "outbound queue")) break;
                _lastQueuedSeq = frame.Seq;
            }
            send = ClaimSender();
        }
        if (send) SendQueued();
    }

    public void ChangeSymbols(IEnumerable<string>? symbols) => _filter = _filter with { Symbols = ConnectionFilter.ToSymbolSet(symbols) };

    /// <summary>Protocol keep-alive, on the hub's sweep: the transport knows whether its socket needs it.</summary>
    public void Heartbeat(TimeProvider time) => _transport?.Heartbeat(time);

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
    /// Asks for a close with <paramref name="code"/>: after the queue is sent when
    /// <paramref name="drain"/>, otherwise at once. The first request wins. A client that does
    /// not take the close within a few seconds is aborted.
    /// </summary>
    public void RequestClose(int code, string reason, bool drain = false)
    {
        bool send;
        lock (_sync)
        {
            RequestCloseLocked(code, reason, drain);
            send = ClaimSender();
        }
        if (send) SendQueued();
    }

    private void RequestCloseLocked(int code, string reason, bool drain)
    {
        if (Interlocked.CompareExchange(ref _closeCode, code, 0) != 0) return;
        Volatile.Write(ref _closeReason, reason);
        if (!drain) DropQueued(); // a draining close sends what is queued first; nothing is queued after it
        WakeReplay();
        AbortTransportOnTimeout();
        _abort.CancelAfter(CloseTimeout);
    }

    /// <summary>Registered once a close starts, not for the life of every idle connection (a registration each).</summary>
    private void AbortTransportOnTimeout()
    {
        if (_transport is { } transport) _abortTransport = _abort.Token.UnsafeRegister(static t => ((IStreamTransport)t!).Abort(), transport);
    }

    /// <summary>The connection has ended: its transport is no longer ours to abort (a late close timeout must not touch it).</summary>
    public void Detach()
    {
        CancellationTokenRegistration registration;
        lock (_sync)
        {
            _transport = null;
            registration = _abortTransport;
        }
        registration.Dispose();
    }

    private bool TryQueue(Outbound item, string what)
    {
        if (_queue.Count >= _queueCapacity)
        {
            Overflow(what);
            return false;
        }
        _queue.Enqueue(item);
        return true;
    }

    private void Overflow(string what)
    {
        _metrics.Drops.WithLabels("slow_consumer").Inc();
        RequestCloseLocked(CloseCodes.SlowConsumer, $"slow consumer: {what} full", drain: false);
    }

    /// <summary>Under the lock: true when the caller should become the sender.</summary>
    private bool ClaimSender()
    {
        if (_sending || _socket is null || (_queue.Count == 0 && !(IsClosing && !_closeStarted))) return false;
        _sending = true;
        return true;
    }

    /// <summary>
    /// The sender: writes queued frames while each write completes at once, several in one write when
    /// more than one waits (our own WebSocket only); the first write that does not complete continues in
    /// <see cref="SendAfterAsync"/>. Then the close frame, once closing and drained. Frames for our own
    /// WebSocket join the fan-out pass's <paramref name="ring"/> when there is one (<see cref="RingWriteDone"/>).
    /// </summary>
    private void SendQueued(SendBatch? ring = null)
    {
        var batch = _batch ??= new Outbound[MaxBatch]; // used only until the write returns: a pending one gets a copy
        while (true)
        {
            int count;
            bool close;
            lock (_sync)
            {
                count = TakeNext(batch, out close);
                if (count == 0 && !close)
                {
                    _sending = false;
                    WakeReplay();
                    return;
                }
            }
            if (!close && ring is not null && FrameSocket is { } own && ring.TryAdd(this, own, batch.AsSpan(0, count))) return;
            ValueTask write;
            try
            {
                write = close ? CloseSocketAsync() : SendAsync(batch, count);
            }
            catch (Exception e) when (IsSendFailure(e))
            {
                Fail();
                return;
            }
            if (!Wrote(write, batch.AsSpan(0, count), close)) return;
        }
    }

    /// <summary>
    /// After a write started: true when it is done and more may be sent; false when it continues in
    /// <see cref="SendAfterAsync"/> (with a copy of <paramref name="items"/>) or nothing is to be sent again.
    /// </summary>
    private bool Wrote(ValueTask write, ReadOnlySpan<Outbound> items, bool close)
    {
        if (write.IsCompletedSuccessfully) return Sent(items, close);
        _ = SendAfterAsync(write, items.ToArray(), close);
        return false;
    }

    /// <summary>A write that joined a <see cref="SendBatch"/> has its outcome (bytes taken, or -errno): on as after <see cref="SendAsync"/>.</summary>
    internal void RingWriteDone(ReadOnlySpan<Outbound> items, int result)
    {
        ValueTask write;
        try
        {
            write = FrameSocket!.EndRingWrite(result, Segments(items));
        }
        catch (Exception e) when (IsSendFailure(e))
        {
            Fail();
            return;
        }
        if (Wrote(write, items, close: false)) SendQueued();
    }

    private async Task SendAfterAsync(ValueTask write, Outbound[] items, bool close)
    {
        try
        {
            await write;
        }
        catch (Exception e) when (IsSendFailure(e))
        {
            // A failed or stuck send ends only this connection.
            Fail();
            return;
        }
        if (Sent(items, close)) SendQueued();
    }

    /// <summary>
    /// Our own WebSocket takes each frame as built once for every recipient, several in one write; another
    /// gets the message. No token: a cancellable send takes ManagedWebSocket's slow path (a state machine and
    /// a registration per frame). A stuck write ends when the close timeout aborts the transport.
    /// </summary>
    private ValueTask SendAsync(Outbound[] batch, int count)
    {
        if (FrameSocket is not { } own)
            return _socket!.SendAsync(batch[0].Frame.Utf8, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        if (count == 1) return own.SendFrameAsync(batch[0].Frame.WebSocketFrame);
        return own.SendFramesAsync(Segments(batch.AsSpan(0, count)));
    }

    /// <summary>The items' frames, in a list of this thread's that the next call reuses.</summary>
    private static List<ArraySegment<byte>> Segments(ReadOnlySpan<Outbound> items)
    {
        var frames = _frames ??= new List<ArraySegment<byte>>(MaxBatch);
        frames.Clear();
        foreach (var item in items) frames.Add(item.Frame.WebSocketFrameSegment);
        return frames;
    }

    /// <summary>Under the lock: the next frames to write (up to a batch; one unless the socket is our own), or the close.</summary>
    private int TakeNext(Outbound[] batch, out bool close)
    {
        close = false;
        var most = FrameSocket is null ? 1 : batch.Length;
        var count = 0;
        while (count < most && _queue.TryDequeue(out var item))
        {
            if (item.Frame.IsSignal && !_filter.Allows(item.Frame)) continue; // the tier dropped while it waited
            batch[count++] = item;
        }
        if (count == 0 && IsClosing && !_closeStarted)
        {
            _closeStarted = true;
            close = true;
        }
        return count;
    }

    private ValueTask CloseSocketAsync() =>
        _socket!.State is WebSocketState.Open or WebSocketState.CloseReceived
            ? new ValueTask(_socket.CloseOutputAsync((WebSocketCloseStatus)Math.Max(CloseCode, CloseCodes.Normal), _closeReason, _abort.Token))
            : ValueTask.CompletedTask;

    /// <summary>After a write completed: false when there is nothing more to send, ever.</summary>
    private bool Sent(ReadOnlySpan<Outbound> items, bool close)
    {
        if (close)
        {
            _closed.TrySetResult();
            return false;
        }
        foreach (var item in items)
        {
            if (!item.Frame.IsSignal) continue;
            _metrics.Deliveries.Inc();
            if (item.Live && item.Frame.IngestTimestamp != 0)
                _metrics.ObserveDelivery(Stopwatch.GetElapsedTime(item.Frame.IngestTimestamp), item.Frame.Trace);
        }
        return true;
    }

    private void Fail()
    {
        lock (_sync)
        {
            RequestCloseLocked(CloseCodes.InternalError, "send failed", drain: false);
            DropQueued();
            _closeStarted = true; // the socket is gone: no close frame; _sending stays set, so nothing sends again
        }
        _socket?.Abort();
        _closed.TrySetResult();
    }

    private void DropQueued()
    {
        if (_queue.Count == 0) return;
        _metrics.Drops.WithLabels("closed").Inc(_queue.Count);
        _queue.Clear();
    }

    private void WakeReplay()
    {
        _roomForReplay?.TrySetResult();
        _roomForReplay = null;
    }

    private static bool IsSendFailure(Exception e) => e is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException;

    /// <summary>A queued frame; <see cref="Live"/> ones count in the delivery-latency histogram.</summary>
    internal readonly record struct Outbound(OutboundFrame Frame, bool Live);
}
