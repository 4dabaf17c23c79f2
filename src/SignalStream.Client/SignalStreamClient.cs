using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SignalStream.Client.Internal;
using SignalStream.Protocol;

namespace SignalStream.Client;

/// <summary>
/// A reliable consumer of the SignalStream signal stream. It opens <c>/ws/signals</c> with an
/// <c>Authorization: Bearer</c> header and delivers every signal the user may see exactly once, in
/// <c>seq</c> order, across any number of reconnects: it resumes with <c>after_seq</c>, drops anything
/// already delivered, fetches gaps from the REST list when the server asks for a resync, and polls the
/// REST list while the WebSocket cannot be opened.
/// </summary>
/// <example>
/// <code>
/// await using var client = new SignalStreamClient(new SignalStreamClientOptions
/// {
///     ServerUri = new Uri("https://signals.example.com"),
///     Username = "bot", Password = secret,
/// });
/// await client.StartAsync(ct);
/// await foreach (var signal in client.ReadAllAsync(ct))
///     Console.WriteLine($"{signal.Seq} {signal.Symbol} {signal.Side}");
/// </code>
/// </example>
public sealed class SignalStreamClient : IAsyncDisposable
{
    private const int ReceiveChunkBytes = 16 * 1024;

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IReconnectPolicy _policy;
    private readonly Uri _serverUri;
    private readonly TimeSpan _pollingInterval;
    private readonly int _pageSize;
    private readonly TimeSpan? _heartbeatInterval;
    private readonly TimeSpan _fallbackHeartbeat;
    private readonly TimeSpan _connectTimeout;
    private readonly int _maxFrameBytes;

    private readonly HttpClient _http;
    private readonly TokenSource _tokens;
    private readonly RestApi _rest;
    private readonly SequenceTracker _tracker;
    private readonly OfflineQueue _offline;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Channel<Signal>? _channel;
    private readonly CancellationTokenSource _stopCts = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateLock = new();

    private volatile string[]? _symbols;
    private volatile ClientWebSocket? _socket;
    private volatile bool _online;
    private ConnectionState _state = ConnectionState.Disconnected;
    private Tier? _tier;
    private Task? _loop;
    private int _startCalled;
    private int _disposed;

    /// <summary>Creates a client. Nothing is opened until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Settings; validated here.</param>
    /// <param name="logger">Optional logger. Tokens never reach it.</param>
    public SignalStreamClient(SignalStreamClientOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _time = options.TimeProvider;
        _policy = options.ReconnectPolicy;
        _serverUri = options.ServerUri;
        _pollingInterval = options.PollingInterval;
        _pageSize = options.PageSize;
        _heartbeatInterval = options.HeartbeatInterval;
        _fallbackHeartbeat = options.FallbackHeartbeatInterval;
        _connectTimeout = options.ConnectTimeout;
        _maxFrameBytes = options.MaxFrameBytes;
        _symbols = SignalStreamClientOptions.NormalizeSymbols(options.Symbols);

        _http = options.HttpMessageHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false)
            : new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true);
        _http.BaseAddress = SignalStreamClientOptions.HttpBase(_serverUri);
        // A REST call gets the same bound as opening the socket: a pooled connection that died silently
        // (a NAT that forgot the flow) must not hold a reconnect for long.
        _http.Timeout = options.ConnectTimeout;
        _tokens = new TokenSource(options, _http);
        _rest = new RestApi(_http, _tokens);
        _tracker = new SequenceTracker(options.AfterSeq);
        _offline = new OfflineQueue(options.OfflineQueueCapacity);
        if (options.ReaderBufferCapacity > 0)
        {
            _channel = Channel.CreateBounded<Signal>(new BoundedChannelOptions(options.ReaderBufferCapacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleWriter = true,
            });
        }
    }

    /// <summary>A signal was delivered (before it is handed to <see cref="ReadAllAsync"/>). Raised on the connection loop.</summary>
    public event EventHandler<SignalReceivedEventArgs>? SignalReceived;

    /// <summary>The connection state changed. Raised on the connection loop.</summary>
    public event EventHandler<ConnectionStateChangedEventArgs>? StateChanged;

    /// <summary>Missed signals were recovered after a reconnect (server replay or REST catch-up).</summary>
    public event EventHandler<ResumedEventArgs>? Resumed;

    /// <summary>The user's tier is known or changed.</summary>
    public event EventHandler<TierChangedEventArgs>? TierChanged;

    /// <summary>The current state.</summary>
    public ConnectionState State
    {
        get { lock (_stateLock) return _state; }
    }

    /// <summary>The last delivered seq: the next connection resumes after it. Null before any position is known.</summary>
    public long? LastSeq => _tracker.LastSeq;

    /// <summary>The user's tier, once <c>welcome</c> has said it.</summary>
    public Tier? Tier => _tier;

    /// <summary>Client-to-server messages waiting for a connection.</summary>
    public int QueuedMessageCount
    {
        get
        {
            _sendLock.Wait();
            try { return _offline.Count; }
            finally { _sendLock.Release(); }
        }
    }

    /// <summary>
    /// Opens the first connection and returns once it is up (<see cref="ConnectionState.Connected"/>, or
    /// <see cref="ConnectionState.Polling"/> after a first successful poll when the WebSocket is refused).
    /// From then on the client reconnects by itself as the policy says.
    /// </summary>
    /// <exception cref="SignalStreamException">The first attempt failed: the server could not be reached or refused the credentials.</exception>
    /// <exception cref="InvalidOperationException">The client was started before.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _startCalled, 1) != 0)
            throw new InvalidOperationException("The client was already started; create a new one to start again.");
        _loop = Task.Run(() => RunAsync(_stopCts.Token), CancellationToken.None);
        try
        {
            await _started.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Closes the connection (code 1000), stops reconnecting and completes <see cref="ReadAllAsync"/>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _stopCts.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
            await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        else
            _channel?.Writer.TryComplete();
    }

    /// <summary>
    /// The delivered signals, in <c>seq</c> order, each once. Completes when the client is stopped; throws
    /// <see cref="SignalStreamException"/> when the client gave up (for example the credentials were refused).
    /// Meant for one reader.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="SignalStreamClientOptions.ReaderBufferCapacity"/> is 0.</exception>
    public IAsyncEnumerable<Signal> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        if (_channel is null)
            throw new InvalidOperationException("ReaderBufferCapacity is 0: signals are delivered through the SignalReceived event only.");
        return _channel.Reader.ReadAllAsync(cancellationToken);
    }

    /// <summary>
    /// Replaces the symbol filter (empty means all). Sent at once when connected, otherwise queued and sent
    /// after the next connect; later connections also ask for the new filter when they open.
    /// </summary>
    public Task SubscribeAsync(IEnumerable<string> symbols, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        var normalized = SignalStreamClientOptions.NormalizeSymbols(symbols);
        _symbols = normalized;
        return SendOrQueueAsync(new ClientMessage { Type = MessageTypes.Subscribe, Symbols = normalized ?? [] }, cancellationToken);
    }

    /// <summary>Sends a <c>ping</c> (queued while disconnected). The server answers <c>pong</c>.</summary>
    public Task PingAsync(CancellationToken cancellationToken = default) =>
        SendOrQueueAsync(new ClientMessage { Type = MessageTypes.Ping, Ts = _time.GetUtcNow().ToUnixTimeMilliseconds() }, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        try
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _http.Dispose();
            _stopCts.Dispose();
        }
    }

    // ---- the connection loop -------------------------------------------------------------------

    private sealed record Outcome(
        DisconnectReason Reason,
        bool Welcomed,
        bool Stopped = false,
        int? CloseStatus = null,
        string? CloseDescription = null,
        int? HttpStatus = null,
        Exception? Exception = null,
        bool StaleToken = false)
    {
        public static Outcome StoppedByClient(bool welcomed) => new(DisconnectReason.Closed, welcomed, Stopped: true);
    }

    private sealed class Session(long now)
    {
        public long LastReceived = now;
        public volatile bool Welcomed;
        public volatile bool HeartbeatTimedOut;
        public volatile bool WelcomeTimedOut;
    }

    private async Task RunAsync(CancellationToken stop)
    {
        // 1. Open a connection and run it until it ends.
        // 2. Ask the policy for the delay before the next attempt (null: stop for good).
        // 3. Wait it out: idle (Reconnecting) or polling the REST list (Polling) when the upgrade was refused.
        var retries = 0;
        var lostAt = _time.GetUtcNow();
        var polling = false;
        var forceNewToken = false;
        ReconnectContext? lastCause = null;
        Exception? fatal = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var starting = !_started.Task.IsCompleted;
                if (starting && !polling)
                    SetState(ConnectionState.Connecting);

                var outcome = await RunConnectionAsync(forceNewToken, stop).ConfigureAwait(false);
                if (outcome.Stopped || stop.IsCancellationRequested)
                    break;
                if (outcome.StaleToken && !forceNewToken)
                {
                    // A cached login token was refused (the server may have rotated its key): log in
                    // again straight away before treating the credentials as bad.
                    forceNewToken = true;
                    continue;
                }
                if (outcome.Welcomed)
                {
                    retries = 0;
                    lostAt = _time.GetUtcNow();
                    polling = false;
                    starting = false;
                }
                forceNewToken = outcome.CloseStatus == CloseCodes.TokenExpired || outcome.Reason == DisconnectReason.Unauthorized;

                var cause = new ReconnectContext(retries, _time.GetUtcNow() - lostAt, outcome.Reason,
                    outcome.CloseStatus, outcome.CloseDescription, outcome.HttpStatus, outcome.Exception);
                lastCause = cause;
                Log.ConnectionEnded(_logger, cause.Reason, cause.CloseStatus, cause.CloseDescription, cause.HttpStatusCode, cause.Exception);

                if (outcome.Reason == DisconnectReason.UpgradeRefused)
                    polling = true;
                if (starting && !polling)
                {
                    fatal = new SignalStreamException(Describe("Could not connect", cause), cause);
                    break;
                }

                var delay = _policy.NextRetryDelay(cause);
                if (delay is null)
                {
                    Log.ReconnectStopped(_logger, cause.Reason);
                    if (cause.CloseStatus != CloseCodes.Normal)
                        fatal = new SignalStreamException(Describe("Stopped reconnecting", cause), cause);
                    break;
                }
                var wait = delay.Value < TimeSpan.Zero ? TimeSpan.Zero : delay.Value;
                retries++;

                if (polling)
                {
                    if (outcome.Reason == DisconnectReason.UpgradeRefused && outcome.HttpStatus is { } status)
                        Log.PollingStarted(_logger, status, _pollingInterval);
                    fatal = await PollUntilAsync(_time.GetUtcNow() + wait, cause, wait, stop).ConfigureAwait(false);
                    if (fatal is not null)
                        break;
                }
                else
                {
                    // The timer is created before the state change is announced, so an observer that
                    // advances a fake clock on Reconnecting always moves this delay.
                    var delayTask = Task.Delay(wait, _time, stop);
                    SetState(ConnectionState.Reconnecting, cause, wait);
                    Log.ReconnectScheduled(_logger, wait, retries);
                    await delayTask.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.LoopFailed(_logger, ex);
            fatal = ex;
        }
        finally
        {
            _online = false;
            SetState(ConnectionState.Disconnected, lastCause);
            _started.TrySetException(fatal ?? new SignalStreamException("The client was stopped before it connected."));
            _channel?.Writer.TryComplete(fatal);
        }
    }

    private static string Describe(string what, ReconnectContext cause)
    {
        var detail = cause switch
        {
            { HttpStatusCode: { } s } => $"HTTP {s}",
            { CloseStatus: { } c } => $"close {c}{(string.IsNullOrEmpty(cause.CloseDescription) ? "" : " " + cause.CloseDescription)}",
            { Exception: { } e } => e.InnerException?.Message ?? e.Message,
            _ => cause.Reason.ToString(),
        };
        return $"{what}: {cause.Reason} ({detail}).";
    }

    /// <summary>Polls the REST list until <paramref name="due"/>; returns an exception when the client must stop.</summary>
    private async Task<Exception?> PollUntilAsync(DateTimeOffset due, ReconnectContext cause, TimeSpan delay, CancellationToken stop)
    {
        SetState(ConnectionState.Polling, cause, delay);
        while (true)
        {
            try
            {
                await CatchUpAsync(stop).ConfigureAwait(false);
                if (_started.TrySetResult())
                    Log.CaughtUp(_logger, 0, _tracker.LastSeq);
            }
            catch (UnauthorizedException ex)
            {
                return new SignalStreamException("The REST list refused the credentials.",
                    cause with { Reason = DisconnectReason.Unauthorized, HttpStatusCode = ex.Status, Exception = ex });
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                Log.PollFailed(_logger, ex);
                if (!_started.Task.IsCompleted)
                    return new SignalStreamException("Could not connect: the WebSocket was refused and the REST list failed.", ex);
            }

            var remaining = due - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
                return null;
            await Task.Delay(remaining < _pollingInterval ? remaining : _pollingInterval, _time, stop).ConfigureAwait(false);
        }
    }

    private async Task<Outcome> RunConnectionAsync(bool forceNewToken, CancellationToken stop)
    {
        // 1. A token (the provider is asked every time; a login may be reused while fresh).
        string token;
        try
        {
            token = await _tokens.GetAsync(forceNewToken, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return Outcome.StoppedByClient(false);
        }
        catch (UnauthorizedException ex)
        {
            return new Outcome(DisconnectReason.Unauthorized, false, HttpStatus: ex.Status, Exception: ex);
        }
        catch (Exception ex)
        {
            return new Outcome(DisconnectReason.ConnectionFailed, false, Exception: ex);
        }

        // 2. The upgrade, resuming after the last delivered seq.
        var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Authorization", "Bearer " + token);
        ws.Options.CollectHttpResponseDetails = true;
        var uri = SignalStreamClientOptions.StreamUri(_serverUri, _tracker.LastSeq, _symbols);
        Log.Connecting(_logger, uri);
        using var timeout = new CancellationTokenSource(_connectTimeout, _time);
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token))
        {
            try
            {
                await ws.ConnectAsync(uri, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                var status = (int)ws.HttpStatusCode;
                ws.Dispose();
                if (stop.IsCancellationRequested)
                    return Outcome.StoppedByClient(false);
                return status switch
                {
                    401 => new Outcome(DisconnectReason.Unauthorized, false, HttpStatus: status, Exception: ex,
                        StaleToken: _tokens.CanRenew && !_tokens.LastWasFresh),
                    403 => new Outcome(DisconnectReason.Unauthorized, false, HttpStatus: status, Exception: ex),
                    0 or 101 or 429 => new Outcome(DisconnectReason.ConnectionFailed, false, HttpStatus: status == 0 ? null : status, Exception: ex),
                    _ => new Outcome(DisconnectReason.UpgradeRefused, false, HttpStatus: status, Exception: ex),
                };
            }
        }

        // 3. Frames until the connection ends. Everything that must not outlive it hangs off sessionCts.
        var session = new Session(_time.GetTimestamp());
        using var sessionCts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var welcomeDeadline = timeout.Token.Register(() =>
        {
            if (!session.Welcomed)
            {
                session.WelcomeTimedOut = true;
                ws.Abort();
            }
        });
        // Stopping closes the socket gracefully (1000) rather than cancelling the pending receive, which
        // would abort the connection without a close frame.
        using var stopRegistration = stop.Register(() => _ = CloseForStopAsync(ws));
        Task heartbeat = Task.CompletedTask;
        var buffer = new ArrayBufferWriter<byte>(ReceiveChunkBytes);
        try
        {
            while (true)
            {
                var kind = await ReceiveFrameAsync(ws, buffer, CancellationToken.None).ConfigureAwait(false);
                Volatile.Write(ref session.LastReceived, _time.GetTimestamp());
                if (stop.IsCancellationRequested)
                    return Outcome.StoppedByClient(session.Welcomed);
                if (kind == WebSocketMessageType.Close)
                {
                    await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure, null).ConfigureAwait(false);
                    return new Outcome(DisconnectReason.Closed, session.Welcomed,
                        CloseStatus: (int?)ws.CloseStatus, CloseDescription: ws.CloseStatusDescription);
                }
                if (buffer.WrittenCount > _maxFrameBytes)
                {
                    await CloseQuietlyAsync(ws, WebSocketCloseStatus.MessageTooBig, "frame too big").ConfigureAwait(false);
                    return new Outcome(DisconnectReason.ConnectionFailed, session.Welcomed,
                        Exception: new InvalidDataException($"A server frame exceeded {_maxFrameBytes} bytes."));
                }
                if (kind == WebSocketMessageType.Binary)
                {
                    Log.InvalidFrame(_logger, "binary frame", buffer.WrittenCount);
                    continue;
                }
                if (!FrameParser.TryParse(buffer.WrittenSpan, out var message, out var error))
                {
                    Log.InvalidFrame(_logger, error!, buffer.WrittenCount);
                    continue;
                }

                switch (message.Type)
                {
                    case MessageTypes.Welcome:
                        session.Welcomed = true;
                        await welcomeDeadline.DisposeAsync().ConfigureAwait(false);
                        _tracker.InitializeIfUnknown(message.LastSeq!.Value);
                        await GoOnlineAsync(ws, stop).ConfigureAwait(false);
                        var interval = _heartbeatInterval
                            ?? (message.HeartbeatMs is > 0 and var ms ? TimeSpan.FromMilliseconds(ms) : _fallbackHeartbeat);
                        heartbeat = HeartbeatAsync(ws, session, interval, sessionCts.Token);
                        Log.Connected(_logger, message.ConnectionId, message.Tier?.ToWire(), message.LastSeq, _tracker.LastSeq);
                        SetTier(message.Tier);
                        SetState(ConnectionState.Connected);
                        _started.TrySetResult();
                        break;

                    case MessageTypes.Signal:
                        await DeliverAsync(FrameParser.SignalOf(message), filterSymbols: false, stop).ConfigureAwait(false);
                        break;

                    case MessageTypes.ReplayComplete:
                        Log.ReplayComplete(_logger, message.Count, message.FromSeq, message.ToSeq);
                        Raise(Resumed, new ResumedEventArgs(ResumeSource.Replay, message.FromSeq, message.Count ?? 0, _tracker.LastSeq), nameof(Resumed));
                        break;

                    case MessageTypes.ResyncRequired:
                        var before = _tracker.LastSeq;
                        Log.ResyncRequired(_logger, message.Reason, message.OldestSeq, before);
                        var count = await CatchUpAsync(stop, session).ConfigureAwait(false);
                        Log.CaughtUp(_logger, count, _tracker.LastSeq);
                        Raise(Resumed, new ResumedEventArgs(ResumeSource.Rest, before, count, _tracker.LastSeq), nameof(Resumed));
                        break;

                    case MessageTypes.TierChanged:
                        SetTier(message.Tier);
                        break;

                    case MessageTypes.Pong:
                        break;

                    case MessageTypes.TokenExpiring:
                        if (_tokens.CanRenew)
                            _ = RefreshTokenAsync(ws, message.ExpiresAt, sessionCts.Token);
                        else
                            Log.TokenNotRenewable(_logger, message.ExpiresAt);
                        break;

                    case MessageTypes.Error:
                        Log.ServerError(_logger, message.Code, message.Message);
                        break;

                    default:
                        Log.UnknownFrame(_logger, message.Type!);
                        break;
                }
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            return Outcome.StoppedByClient(session.Welcomed);
        }
        catch (UnauthorizedException ex)
        {
            return new Outcome(DisconnectReason.Unauthorized, session.Welcomed, HttpStatus: ex.Status, Exception: ex);
        }
        catch (Exception ex)
        {
            if (session.HeartbeatTimedOut)
                return new Outcome(DisconnectReason.HeartbeatTimeout, session.Welcomed, Exception: ex);
            if (session.WelcomeTimedOut)
                return new Outcome(DisconnectReason.ConnectionFailed, false, Exception: new TimeoutException($"No welcome within {_connectTimeout}.", ex));
            return new Outcome(DisconnectReason.ConnectionFailed, session.Welcomed, Exception: ex);
        }
        finally
        {
            _online = false;
            _socket = null;
            await welcomeDeadline.DisposeAsync().ConfigureAwait(false);
            await sessionCts.CancelAsync().ConfigureAwait(false);
            try
            {
                await heartbeat.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            ws.Dispose();
        }
    }

    private static async ValueTask<WebSocketMessageType> ReceiveFrameAsync(ClientWebSocket ws, ArrayBufferWriter<byte> buffer, CancellationToken ct)
    {
        buffer.ResetWrittenCount();
        while (true)
        {
            var result = await ws.ReceiveAsync(buffer.GetMemory(ReceiveChunkBytes), ct).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
                return WebSocketMessageType.Close;
            buffer.Advance(result.Count);
            if (result.EndOfMessage)
                return result.MessageType;
        }
    }

    private async Task CloseForStopAsync(ClientWebSocket ws)
    {
        try
        {
            await _sendLock.WaitAsync().ConfigureAwait(false);
            try
            {
                await CloseQuietlyAsync(ws, WebSocketCloseStatus.NormalClosure, "client stopping").ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
            // The server answers the close frame, which ends the receive loop; if it does not, cut the
            // connection (network I/O: real time, whatever clock the client was given).
            await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                ws.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private static async Task CloseQuietlyAsync(ClientWebSocket ws, WebSocketCloseStatus status, string? description)
    {
        if (ws.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            return;
        try
        {
            // Network I/O: bounded by real time, whatever clock the client was given.
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await ws.CloseOutputAsync(status, description, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
    }

    // ---- delivery ------------------------------------------------------------------------------

    private async ValueTask<bool> DeliverAsync(Signal signal, bool filterSymbols, CancellationToken ct)
    {
        // The one de-duplication rule: a seq not greater than the last delivered one was seen already.
        if (!_tracker.TryAccept(signal.Seq))
        {
            Log.DuplicateSignal(_logger, signal.Seq, _tracker.LastSeq);
            return false;
        }
        // The REST list does not filter by symbol; the socket does (server-side).
        if (filterSymbols && _symbols is { } symbols && !symbols.Contains(signal.Symbol, StringComparer.OrdinalIgnoreCase))
            return false;
        Raise(SignalReceived, new SignalReceivedEventArgs(signal), nameof(SignalReceived));
        if (_channel is not null)
            await _channel.Writer.WriteAsync(signal, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Fetches every visible signal after the last delivered one from the REST list, page by page.</summary>
    private async Task<int> CatchUpAsync(CancellationToken ct, Session? session = null)
    {
        if (!_tracker.HasPosition)
        {
            // A fresh start without a resume point: begin after the newest stored signal.
            var newest = await _rest.GetSignalsAsync(null, 1, ct).ConfigureAwait(false);
            _tracker.InitializeIfUnknown(newest.LastSeq);
            return 0;
        }
        var delivered = 0;
        while (true)
        {
            var after = _tracker.LastSeq!.Value;
            var page = await _rest.GetSignalsAsync(after, _pageSize, ct).ConfigureAwait(false);
            if (session is not null)
                Volatile.Write(ref session.LastReceived, _time.GetTimestamp());
            var highest = after;
            foreach (var signal in page.Signals.OrderBy(s => s.Seq))
            {
                if (await DeliverAsync(signal, filterSymbols: true, ct).ConfigureAwait(false))
                    delivered++;
                highest = Math.Max(highest, signal.Seq);
            }
            if (page.Signals.Length < _pageSize || highest <= after)
                return delivered;
        }
    }

    // ---- sending -------------------------------------------------------------------------------

    private async Task SendOrQueueAsync(ClientMessage message, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_online && _socket is { } ws)
            {
                try
                {
                    await SendFrameAsync(ws, message, ct).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or InvalidOperationException or IOException)
                {
                    // The connection is going down; the message goes out after the next connect.
                }
            }
            if (_offline.Enqueue(message) is { } dropped)
                Log.OfflineQueueOverflow(_logger, _offline.Capacity, dropped.Type);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends what was queued while offline, in order, then lets new messages go straight out.</summary>
    private async Task GoOnlineAsync(ClientWebSocket ws, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var sent = 0;
            while (_offline.TryPeek(out var message))
            {
                await SendFrameAsync(ws, message, ct).ConfigureAwait(false);
                _offline.RemoveFirst();
                sent++;
            }
            if (sent > 0)
                Log.OfflineQueueFlushed(_logger, sent);
            _socket = ws;
            _online = true;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends a connection-bound frame (ping, refresh) that is worthless on another connection.</summary>
    private async Task SendNowAsync(ClientWebSocket ws, ClientMessage message, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (ws.State == WebSocketState.Open)
                await SendFrameAsync(ws, message, ct).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private static ValueTask SendFrameAsync(ClientWebSocket ws, ClientMessage message, CancellationToken ct) =>
        ws.SendAsync(new ReadOnlyMemory<byte>(FrameParser.Serialize(message)), WebSocketMessageType.Text, endOfMessage: true, ct);

    private async Task HeartbeatAsync(ClientWebSocket ws, Session session, TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            var pingedSinceLastFrame = false;
            var lastSeen = Volatile.Read(ref session.LastReceived);
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                var lastReceived = Volatile.Read(ref session.LastReceived);
                if (lastReceived != lastSeen)
                {
                    lastSeen = lastReceived;
                    pingedSinceLastFrame = false;
                }
                // Dead: nothing at all for two intervals, although a ping went out in that time (a late
                // timer tick on a busy machine must not count as silence from the server).
                var silence = _time.GetElapsedTime(lastReceived);
                if (pingedSinceLastFrame && silence >= interval + interval)
                {
                    Log.HeartbeatTimeout(_logger, silence);
                    session.HeartbeatTimedOut = true;
                    ws.Abort();
                    return;
                }
                await SendNowAsync(ws, new ClientMessage { Type = MessageTypes.Ping, Ts = _time.GetUtcNow().ToUnixTimeMilliseconds() }, ct).ConfigureAwait(false);
                pingedSinceLastFrame = true;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
        {
            // The receive loop notices a broken connection by itself.
        }
    }

    private async Task RefreshTokenAsync(ClientWebSocket ws, DateTimeOffset? expiresAt, CancellationToken ct)
    {
        try
        {
            Log.TokenRefreshing(_logger, expiresAt);
            var token = await _tokens.GetAsync(forceNew: true, ct).ConfigureAwait(false);
            await SendNowAsync(ws, new ClientMessage { Type = MessageTypes.Refresh, Token = token }, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The server closes with 4001 if no refresh arrives; the next connection gets a new token.
            Log.TokenRefreshFailed(_logger, ex);
        }
    }

    // ---- state and events ----------------------------------------------------------------------

    private void SetState(ConnectionState state, ReconnectContext? cause = null, TimeSpan? retryDelay = null)
    {
        ConnectionState previous;
        lock (_stateLock)
        {
            previous = _state;
            // Reconnecting and Polling repeat on every attempt, each with its new delay.
            if (previous == state && state is not (ConnectionState.Reconnecting or ConnectionState.Polling))
                return;
            _state = state;
        }
        Raise(StateChanged, new ConnectionStateChangedEventArgs(previous, state, _time.GetUtcNow(), _tracker.LastSeq, cause, retryDelay), nameof(StateChanged));
    }

    private void SetTier(Tier? tier)
    {
        if (tier is not { } value || _tier == value)
            return;
        _tier = value;
        Log.TierChanged(_logger, value.ToWire());
        Raise(TierChanged, new TierChangedEventArgs(value), nameof(TierChanged));
    }

    private void Raise<T>(EventHandler<T>? handler, T args, string name)
    {
        if (handler is null)
            return;
        try
        {
            handler(this, args);
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(_logger, name, ex);
        }
    }
}
