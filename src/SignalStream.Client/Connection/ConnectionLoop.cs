using Microsoft.Extensions.Logging;
using SignalStream.Protocol;

namespace SignalStream.Client.Connection;

/// <summary>
/// Keeps the client connected, one connection at a time: runs a connection until it ends, asks the
/// <see cref="IReconnectPolicy"/> how long to wait, and waits it out idle (Reconnecting) or polling
/// (Polling, while the WebSocket is refused). It decides when the client gives up for good.
/// </summary>
internal sealed class ConnectionLoop(
    IStreamConnection connection,
    IPollingFallback fallback,
    IReconnectPolicy policy,
    ConnectionStatus status,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>Runs until <paramref name="stop"/> or the client gives up; returns why it gave up (null: stopped or told to).</summary>
    public async Task<Exception?> RunAsync(CancellationToken stop)
    {
        // 1. Open a connection and run it until it ends.
        // 2. Ask the policy for the delay before the next attempt (null: stop for good).
        // 3. Wait it out: idle (Reconnecting) or polling the REST list (Polling) when the upgrade was refused.
        var retries = 0;
        var lostAt = time.GetUtcNow();
        var polling = false;
        var forceNewToken = false;
        ReconnectContext? lastCause = null;
        Exception? fatal = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var starting = !status.HasStarted;
                if (starting && !polling)
                    status.Set(ConnectionState.Connecting);

                var outcome = await connection.RunAsync(forceNewToken, stop).ConfigureAwait(false);
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
                    lostAt = time.GetUtcNow();
                    polling = false;
                    starting = false;
                }
                forceNewToken = outcome.CloseStatus == CloseCodes.TokenExpired || outcome.Reason == DisconnectReason.Unauthorized;

                var cause = outcome.ToContext(retries, time.GetUtcNow() - lostAt);
                lastCause = cause;
                Log.ConnectionEnded(logger, cause.Reason, cause.CloseStatus, cause.CloseDescription, cause.HttpStatusCode, cause.Exception);

                if (outcome.Reason == DisconnectReason.UpgradeRefused)
                    polling = true;
                if (starting && !polling)
                {
                    fatal = new SignalStreamException(Describe("Could not connect", cause), cause);
                    break;
                }

                var delay = policy.NextRetryDelay(cause);
                if (delay is null)
                {
                    Log.ReconnectStopped(logger, cause.Reason);
                    if (cause.CloseStatus != CloseCodes.Normal)
                        fatal = new SignalStreamException(Describe("Stopped reconnecting", cause), cause);
                    break;
                }
                var wait = delay.Value < TimeSpan.Zero ? TimeSpan.Zero : delay.Value;
                retries++;

                if (polling)
                {
                    fatal = await fallback.PollUntilAsync(time.GetUtcNow() + wait, cause, wait, stop).ConfigureAwait(false);
                    if (fatal is not null)
                        break;
                }
                else
                {
                    // The timer is created before the state change is announced, so an observer that
                    // advances a fake clock on Reconnecting always moves this delay.
                    var delayTask = Task.Delay(wait, time, stop);
                    status.Set(ConnectionState.Reconnecting, cause, wait);
                    Log.ReconnectScheduled(logger, wait, retries);
                    await delayTask.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.LoopFailed(logger, ex);
            fatal = ex;
        }
        status.Set(ConnectionState.Disconnected, lastCause);
        status.FailStart(fatal ?? new SignalStreamException("The client was stopped before it connected."));
        return fatal;
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
}
