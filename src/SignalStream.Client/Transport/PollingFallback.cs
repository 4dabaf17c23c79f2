using Microsoft.Extensions.Logging;
using SignalStream.Client.Connection;
using SignalStream.Client.Delivery;
using SignalStream.Client.Rest;

namespace SignalStream.Client.Transport;

/// <summary>
/// The transport of last resort: while the WebSocket upgrade is refused, polls the REST list every
/// interval until the next socket attempt is due. The first successful poll counts as started.
/// </summary>
internal sealed class PollingFallback(
    RestCatchUp catchUp,
    ResumeState resume,
    ConnectionStatus status,
    TimeSpan interval,
    TimeProvider time,
    ILogger logger) : IPollingFallback
{
    /// <inheritdoc/>
    public async Task<Exception?> PollUntilAsync(DateTimeOffset due, ReconnectContext cause, TimeSpan delay, CancellationToken stop)
    {
        if (cause is { Reason: DisconnectReason.UpgradeRefused, HttpStatusCode: { } refusedWith })
            Log.PollingStarted(logger, refusedWith, interval);
        status.Set(ConnectionState.Polling, cause, delay);
        while (true)
        {
            try
            {
                await catchUp.RunAsync(null, stop).ConfigureAwait(false);
                if (status.MarkStarted())
                    Log.CaughtUp(logger, 0, resume.LastSeq);
            }
            catch (UnauthorizedException ex)
            {
                return new SignalStreamException("The REST list refused the credentials.",
                    cause with { Reason = DisconnectReason.Unauthorized, HttpStatusCode = ex.Status, Exception = ex });
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                Log.PollFailed(logger, ex);
                if (!status.HasStarted)
                    return new SignalStreamException("Could not connect: the WebSocket was refused and the REST list failed.", ex);
            }

            var remaining = due - time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
                return null;
            await Task.Delay(remaining < interval ? remaining : interval, time, stop).ConfigureAwait(false);
        }
    }
}
