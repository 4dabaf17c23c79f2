using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using SignalStream.Protocol;

namespace SignalStream.Client.Transport;

/// <summary>
/// Keeps one connection honest: pings every interval and aborts the socket when nothing at all arrived
/// for two intervals although a ping went out, so a peer that died silently is noticed.
/// </summary>
internal sealed class Heartbeat(WebSocket ws, Outbox outbox, TimeProvider time, ILogger logger)
{
    private long _lastReceived = time.GetTimestamp();
    private volatile bool _timedOut;

    /// <summary>Whether the heartbeat gave up on the connection (and aborted it).</summary>
    public bool TimedOut => _timedOut;

    /// <summary>The interval: the configured one, else the server's <c>heartbeat_ms</c>, else the fallback.</summary>
    public static TimeSpan IntervalFor(TimeSpan? configured, int? serverMs, TimeSpan fallback) =>
        configured ?? (serverMs is > 0 and var ms ? TimeSpan.FromMilliseconds(ms) : fallback);

    /// <summary>Something arrived on the connection (any frame, or a catch-up page it asked for).</summary>
    public void MarkReceived() => Volatile.Write(ref _lastReceived, time.GetTimestamp());

    /// <summary>Pings every <paramref name="interval"/> until <paramref name="ct"/> ends or the connection is found dead.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            var pingedSinceLastFrame = false;
            var lastSeen = Volatile.Read(ref _lastReceived);
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                var lastReceived = Volatile.Read(ref _lastReceived);
                if (lastReceived != lastSeen)
                {
                    lastSeen = lastReceived;
                    pingedSinceLastFrame = false;
                }
                // Dead: nothing at all for two intervals, although a ping went out in that time (a late
                // timer tick on a busy machine must not count as silence from the server).
                var silence = time.GetElapsedTime(lastReceived);
                if (pingedSinceLastFrame && silence >= interval + interval)
                {
                    Log.HeartbeatTimeout(logger, silence);
                    _timedOut = true;
                    ws.Abort();
                    return;
                }
                await outbox.SendNowAsync(ws, new ClientMessage { Type = MessageTypes.Ping, Ts = time.GetUtcNow().ToUnixTimeMilliseconds() }, ct).ConfigureAwait(false);
                pingedSinceLastFrame = true;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException or IOException)
        {
            // The receive loop notices a broken connection by itself.
        }
    }
}
