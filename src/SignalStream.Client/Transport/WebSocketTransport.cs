using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using SignalStream.Client.Connection;
using SignalStream.Client.Delivery;
using SignalStream.Client.Rest;

namespace SignalStream.Client.Transport;

/// <summary>
/// Opens <c>/ws/signals</c> with a bearer token, resuming after the last delivered seq with the current
/// symbol filter, and runs the connection as a <see cref="WebSocketSession"/>.
/// </summary>
internal sealed class WebSocketTransport(
    WebSocketSettings settings,
    TokenSource tokens,
    ResumeState resume,
    SymbolFilter symbols,
    MessageDispatcher dispatcher,
    Outbox outbox,
    TimeProvider time,
    ILogger logger) : IStreamConnection
{
    /// <inheritdoc/>
    public async Task<ConnectionOutcome> RunAsync(bool forceNewToken, CancellationToken stop)
    {
        // 1. A token (the provider is asked every time; a login may be reused while fresh).
        string token;
        try
        {
            token = await tokens.GetAsync(forceNewToken, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ConnectionOutcome.StoppedByClient(false);
        }
        catch (UnauthorizedException ex)
        {
            return new ConnectionOutcome(DisconnectReason.Unauthorized, false, HttpStatus: ex.Status, Exception: ex);
        }
        catch (Exception ex)
        {
            return new ConnectionOutcome(DisconnectReason.ConnectionFailed, false, Exception: ex);
        }

        // 2. The upgrade, resuming after the last delivered seq. The connect timeout also bounds the wait for welcome.
        using var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Authorization", "Bearer " + token);
        ws.Options.CollectHttpResponseDetails = true;
        var uri = SignalStreamClientOptions.StreamUri(settings.ServerUri, resume.LastSeq, resume.Epoch, symbols.Current);
        Log.Connecting(logger, uri);
        using var timeout = new CancellationTokenSource(settings.ConnectTimeout, time);
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token))
        {
            try
            {
                await ws.ConnectAsync(uri, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                if (stop.IsCancellationRequested)
                    return ConnectionOutcome.StoppedByClient(false);
                return ConnectionOutcome.UpgradeFailed((int)ws.HttpStatusCode, ex, tokenWasCached: tokens.CanRenew && !tokens.LastWasFresh);
            }
        }

        // 3. Frames until the connection ends.
        var session = new WebSocketSession(ws, dispatcher, outbox, tokens, settings, time, logger, stop);
        return await session.RunAsync(timeout.Token).ConfigureAwait(false);
    }
}
