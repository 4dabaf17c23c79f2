using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using SignalStream.Client.Delivery;
using SignalStream.Protocol;

namespace SignalStream.Client.Transport;

/// <summary>
/// Everything the client sends goes through here, one frame at a time: consumer messages go straight out
/// while a connection is online and wait in the <see cref="OfflineQueue"/> otherwise; connection-bound
/// frames (heartbeat pings, token refresh, the closing handshake) go to their own socket or nowhere.
/// </summary>
internal sealed class Outbox(int offlineCapacity, ILogger logger)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly OfflineQueue _offline = new(offlineCapacity);
    private volatile WebSocket? _online;

    /// <summary>Consumer messages waiting for a connection.</summary>
    public int QueuedCount
    {
        get
        {
            _lock.Wait();
            try { return _offline.Count; }
            finally { _lock.Release(); }
        }
    }

    /// <summary>Sends a consumer message now if a connection is online, otherwise queues it for the next one.</summary>
    public async Task SendOrQueueAsync(ClientMessage message, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_online is { } ws)
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
                Log.OfflineQueueOverflow(logger, _offline.Capacity, dropped.Type);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends what was queued while offline, in order, then lets new messages go straight out on <paramref name="ws"/>.</summary>
    public async Task GoOnlineAsync(WebSocket ws, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
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
                Log.OfflineQueueFlushed(logger, sent);
            _online = ws;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>The connection ended: consumer messages wait for the next one.</summary>
    public void GoOffline() => _online = null;

    /// <summary>Sends a connection-bound frame (ping, refresh) that is worthless on another connection.</summary>
    public async Task SendNowAsync(WebSocket ws, ClientMessage message, CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (ws.State == WebSocketState.Open)
                await SendFrameAsync(ws, message, ct).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Starts the closing handshake on <paramref name="ws"/>, after any frame being sent; never throws.</summary>
    public async Task CloseAsync(WebSocket ws, WebSocketCloseStatus status, string? description)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            await CloseQuietlyAsync(ws, status, description).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends a close frame if the socket can still take one; never throws.</summary>
    public static async Task CloseQuietlyAsync(WebSocket ws, WebSocketCloseStatus status, string? description)
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

    private static ValueTask SendFrameAsync(WebSocket ws, ClientMessage message, CancellationToken ct) =>
        ws.SendAsync(new ReadOnlyMemory<byte>(FrameParser.Serialize(message)), WebSocketMessageType.Text, endOfMessage: true, ct);
}
