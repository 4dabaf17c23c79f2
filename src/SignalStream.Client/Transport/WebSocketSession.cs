using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using SignalStream.Client.Connection;
using SignalStream.Client.Delivery;
using SignalStream.Client.Rest;
using SignalStream.Protocol;

namespace SignalStream.Client.Transport;

/// <summary>
/// One open WebSocket, from the upgrade to its end: reads frames for the <see cref="MessageDispatcher"/>,
/// holds the connection to <c>welcome</c> within the connect timeout, runs the <see cref="Heartbeat"/>,
/// renews the token in-band, closes gracefully when the client stops, and says how it ended.
/// </summary>
internal sealed class WebSocketSession : ISessionControl
{
    private const int ReceiveChunkBytes = 16 * 1024;

    private readonly WebSocket _ws;
    private readonly MessageDispatcher _dispatcher;
    private readonly Outbox _outbox;
    private readonly TokenSource _tokens;
    private readonly WebSocketSettings _settings;
    private readonly ILogger _logger;
    private readonly Heartbeat _heartbeat;
    private readonly CancellationTokenSource _sessionCts;
    private readonly CancellationToken _stop;
    private CancellationTokenRegistration _welcomeDeadline;
    private Task _heartbeatLoop = Task.CompletedTask;
    private volatile bool _welcomed;
    private volatile bool _welcomeTimedOut;

    public WebSocketSession(WebSocket ws, MessageDispatcher dispatcher, Outbox outbox, TokenSource tokens, WebSocketSettings settings,
        TimeProvider time, ILogger logger, CancellationToken stop)
    {
        _ws = ws;
        _dispatcher = dispatcher;
        _outbox = outbox;
        _tokens = tokens;
        _settings = settings;
        _logger = logger;
        _stop = stop;
        _heartbeat = new Heartbeat(ws, outbox, time, logger);
        // Everything that must not outlive the connection hangs off this.
        _sessionCts = CancellationTokenSource.CreateLinkedTokenSource(stop);
    }

    /// <summary>Runs the connection until it ends; <paramref name="welcomeDeadline"/> aborts it if <c>welcome</c> has not arrived by then.</summary>
    public async Task<ConnectionOutcome> RunAsync(CancellationToken welcomeDeadline)
    {
        _welcomeDeadline = welcomeDeadline.Register(() =>
        {
            if (!_welcomed)
            {
                _welcomeTimedOut = true;
                _ws.Abort();
            }
        });
        // Stopping closes the socket gracefully (1000) rather than cancelling the pending receive, which
        // would abort the connection without a close frame.
        using var stopRegistration = _stop.Register(() => _ = CloseForStopAsync());
        var buffer = new ArrayBufferWriter<byte>(ReceiveChunkBytes);
        try
        {
            while (true)
            {
                var kind = await ReceiveFrameAsync(buffer).ConfigureAwait(false);
                _heartbeat.MarkReceived();
                if (_stop.IsCancellationRequested)
                    return ConnectionOutcome.StoppedByClient(_welcomed);
                if (kind == WebSocketMessageType.Close)
                {
                    await Outbox.CloseQuietlyAsync(_ws, WebSocketCloseStatus.NormalClosure, null).ConfigureAwait(false);
                    return new ConnectionOutcome(DisconnectReason.Closed, _welcomed,
                        CloseStatus: (int?)_ws.CloseStatus, CloseDescription: _ws.CloseStatusDescription);
                }
                if (buffer.WrittenCount > _settings.MaxFrameBytes)
                {
                    await Outbox.CloseQuietlyAsync(_ws, WebSocketCloseStatus.MessageTooBig, "frame too big").ConfigureAwait(false);
                    return new ConnectionOutcome(DisconnectReason.ConnectionFailed, _welcomed,
                        Exception: new InvalidDataException($"A server frame exceeded {_settings.MaxFrameBytes} bytes."));
                }
                await _dispatcher.DispatchAsync(kind, buffer.WrittenMemory, this, _stop).ConfigureAwait(false);
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            return ConnectionOutcome.StoppedByClient(_welcomed);
        }
        catch (UnauthorizedException ex)
        {
            return new ConnectionOutcome(DisconnectReason.Unauthorized, _welcomed, HttpStatus: ex.Status, Exception: ex);
        }
        catch (Exception ex)
        {
            if (_heartbeat.TimedOut)
                return new ConnectionOutcome(DisconnectReason.HeartbeatTimeout, _welcomed, Exception: ex);
            if (_welcomeTimedOut)
                return new ConnectionOutcome(DisconnectReason.ConnectionFailed, false, Exception: new TimeoutException($"No welcome within {_settings.ConnectTimeout}.", ex));
            return new ConnectionOutcome(DisconnectReason.ConnectionFailed, _welcomed, Exception: ex);
        }
        finally
        {
            _outbox.GoOffline();
            await _welcomeDeadline.DisposeAsync().ConfigureAwait(false);
            await _sessionCts.CancelAsync().ConfigureAwait(false);
            try
            {
                await _heartbeatLoop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            _sessionCts.Dispose();
        }
    }

    /// <inheritdoc/>
    public async Task OnWelcomeAsync(ServerMessage welcome, CancellationToken ct)
    {
        _welcomed = true;
        await _welcomeDeadline.DisposeAsync().ConfigureAwait(false);
        await _outbox.GoOnlineAsync(_ws, ct).ConfigureAwait(false);
        var interval = Heartbeat.IntervalFor(_settings.HeartbeatInterval, welcome.HeartbeatMs, _settings.FallbackHeartbeatInterval);
        _heartbeatLoop = _heartbeat.RunAsync(interval, _sessionCts.Token);
    }

    /// <inheritdoc/>
    public void OnTokenExpiring(DateTimeOffset? expiresAt)
    {
        if (_tokens.CanRenew)
            _ = RefreshTokenAsync(expiresAt, _sessionCts.Token);
        else
            Log.TokenNotRenewable(_logger, expiresAt);
    }

    /// <inheritdoc/>
    public void MarkAlive() => _heartbeat.MarkReceived();

    private async ValueTask<WebSocketMessageType> ReceiveFrameAsync(ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        while (true)
        {
            var result = await _ws.ReceiveAsync(buffer.GetMemory(ReceiveChunkBytes), CancellationToken.None).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
                return WebSocketMessageType.Close;
            buffer.Advance(result.Count);
            if (result.EndOfMessage)
                return result.MessageType;
        }
    }

    private async Task RefreshTokenAsync(DateTimeOffset? expiresAt, CancellationToken ct)
    {
        try
        {
            Log.TokenRefreshing(_logger, expiresAt);
            var token = await _tokens.GetAsync(forceNew: true, ct).ConfigureAwait(false);
            await _outbox.SendNowAsync(_ws, new ClientMessage { Type = MessageTypes.Refresh, Token = token }, ct).ConfigureAwait(false);
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

    private async Task CloseForStopAsync()
    {
        try
        {
            await _outbox.CloseAsync(_ws, WebSocketCloseStatus.NormalClosure, "client stopping").ConfigureAwait(false);
            // The server answers the close frame, which ends the receive loop; if it does not, cut the
            // connection (network I/O: real time, whatever clock the client was given).
            await Task.Delay(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                _ws.Abort();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }
}
