using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SignalStream.Client.Connection;
using SignalStream.Client.Delivery;
using SignalStream.Client.Rest;
using SignalStream.Client.Transport;
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
    // The client is a face over its pieces: the ConnectionLoop keeps one connection at a time (the
    // WebSocketTransport, or the PollingFallback while the socket is refused), the MessageDispatcher
    // turns frames into deliveries and events, ResumeState holds the position and the de-duplication
    // rule, and the Outbox sends or queues what the consumer sends.
    private readonly TimeProvider _time;
    private readonly HttpClient _http;
    private readonly ClientEvents _events;
    private readonly ResumeState _resume;
    private readonly SymbolFilter _symbols;
    private readonly ConnectionStatus _status;
    private readonly SignalDelivery _delivery;
    private readonly Outbox _outbox;
    private readonly ConnectionLoop _loop;
    private readonly CancellationTokenSource _stopCts = new();
    private Task? _running;
    private int _startCalled;
    private int _disposed;

    /// <summary>Creates a client. Nothing is opened until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Settings; validated here.</param>
    /// <param name="logger">Optional logger. Tokens never reach it.</param>
    public SignalStreamClient(SignalStreamClientOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        logger ??= NullLogger.Instance;
        _time = options.TimeProvider;

        _http = options.HttpMessageHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false)
            : new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true);
        _http.BaseAddress = SignalStreamClientOptions.HttpBase(options.ServerUri);
        // A REST call gets the same bound as opening the socket: a pooled connection that died silently
        // (a NAT that forgot the flow) must not hold a reconnect for long.
        _http.Timeout = options.ConnectTimeout;
        var tokens = new TokenSource(options, _http);
        var signalList = new RestSignalList(_http, tokens);

        _events = new ClientEvents(this, logger);
        _resume = new ResumeState(options.AfterSeq, options.Epoch);
        _symbols = new SymbolFilter(options.Symbols);
        _status = new ConnectionStatus(_events, _resume, _time, logger);
        _delivery = new SignalDelivery(_resume, _symbols, _events, options.ReaderBufferCapacity, logger);
        _outbox = new Outbox(options.OfflineQueueCapacity, logger);
        var catchUp = new RestCatchUp(signalList, _resume, _delivery, options.PageSize, logger);
        var dispatcher = new MessageDispatcher(_delivery, catchUp, _resume, _status, _events, logger);
        _loop = new ConnectionLoop(
            new WebSocketTransport(WebSocketSettings.From(options), tokens, _resume, _symbols, dispatcher, _outbox, _time, logger),
            new PollingFallback(catchUp, _resume, _status, options.PollingInterval, _time, logger),
            options.ReconnectPolicy, _status, _time, logger);
    }

    /// <summary>A signal was delivered (before it is handed to <see cref="ReadAllAsync"/>). Raised on the connection loop.</summary>
    public event EventHandler<SignalReceivedEventArgs>? SignalReceived
    {
        add => _events.SignalReceived += value;
        remove => _events.SignalReceived -= value;
    }

    /// <summary>The connection state changed. Raised on the connection loop.</summary>
    public event EventHandler<ConnectionStateChangedEventArgs>? StateChanged
    {
        add => _events.StateChanged += value;
        remove => _events.StateChanged -= value;
    }

    /// <summary>Missed signals were recovered after a reconnect (server replay or REST catch-up).</summary>
    public event EventHandler<ResumedEventArgs>? Resumed
    {
        add => _events.Resumed += value;
        remove => _events.Resumed -= value;
    }

    /// <summary>The user's tier is known or changed.</summary>
    public event EventHandler<TierChangedEventArgs>? TierChanged
    {
        add => _events.TierChanged += value;
        remove => _events.TierChanged -= value;
    }

    /// <summary>The current state.</summary>
    public ConnectionState State => _status.State;

    /// <summary>The last delivered seq: the next connection resumes after it. Null before any position is known.</summary>
    public long? LastSeq => _resume.LastSeq;

    /// <summary>The history <see cref="LastSeq"/> counts in (an opaque string from the server); save it with the seq and pass both back as <see cref="SignalStreamClientOptions.AfterSeq"/> and <see cref="SignalStreamClientOptions.Epoch"/>.</summary>
    public string? Epoch => _resume.Epoch;

    /// <summary>The user's tier, once <c>welcome</c> has said it.</summary>
    public Tier? Tier => _status.Tier;

    /// <summary>Client-to-server messages waiting for a connection.</summary>
    public int QueuedMessageCount => _outbox.QueuedCount;

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
        _running = Task.Run(() => RunAsync(_stopCts.Token), CancellationToken.None);
        try
        {
            await _status.Started.WaitAsync(cancellationToken).ConfigureAwait(false);
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
        if (_running is { } running)
            await running.WaitAsync(cancellationToken).ConfigureAwait(false);
        else
            _delivery.Complete();
    }

    /// <summary>
    /// The delivered signals, in <c>seq</c> order, each once. Completes when the client is stopped; throws
    /// <see cref="SignalStreamException"/> when the client gave up (for example the credentials were refused).
    /// Meant for one reader.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="SignalStreamClientOptions.ReaderBufferCapacity"/> is 0.</exception>
    public IAsyncEnumerable<Signal> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        if (_delivery.Reader is not { } reader)
            throw new InvalidOperationException("ReaderBufferCapacity is 0: signals are delivered through the SignalReceived event only.");
        return reader.ReadAllAsync(cancellationToken);
    }

    /// <summary>
    /// Replaces the symbol filter (empty means all). Sent at once when connected, otherwise queued and sent
    /// after the next connect; later connections also ask for the new filter when they open.
    /// </summary>
    public Task SubscribeAsync(IEnumerable<string> symbols, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        var filter = _symbols.Replace(symbols);
        return SendOrQueueAsync(new ClientMessage { Type = MessageTypes.Subscribe, Symbols = filter ?? [] }, cancellationToken);
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

    private async Task RunAsync(CancellationToken stop)
    {
        var fatal = await _loop.RunAsync(stop).ConfigureAwait(false);
        _delivery.Complete(fatal);
    }

    private Task SendOrQueueAsync(ClientMessage message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _outbox.SendOrQueueAsync(message, cancellationToken);
    }
}
