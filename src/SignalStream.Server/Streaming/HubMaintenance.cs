using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Hosting;
using SignalStream.Server.Observability;

namespace SignalStream.Server.Streaming;

/// <summary>
/// Once a second, for every connection: <c>token_expiring</c> before its token runs out and close
/// 4001 when it has; publishes queue depth. At shutdown: close every socket with 1001 after
/// flushing what is queued.
/// </summary>
public sealed class HubMaintenance(
    ConnectionHub hub,
    IOptions<AuthOptions> auth,
    ServerMetrics metrics,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<HubMaintenance> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // ApplicationStopping fires before Kestrel waits for requests to end, so sockets get their 1001 first.
        lifetime.ApplicationStopping.Register(CloseAll);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken)) Sweep();
    }

    internal void Sweep()
    {
        var now = time.GetUtcNow();
        var notice = TimeSpan.FromTicks(Math.Min(auth.Value.ExpiryNotice.Ticks, auth.Value.TokenLifetime.Ticks / 2));
        long depth = 0;
        foreach (var connection in hub.Snapshot())
        {
            connection.CheckToken(now, notice);
            depth += connection.QueueDepth;
        }
        metrics.OutboundQueueDepth.Set(depth);
    }

    private void CloseAll()
    {
        var connections = hub.Snapshot();
        logger.ClosingAll(connections.Length);
        foreach (var connection in connections) connection.RequestClose(CloseCodes.GoingAway, "server shutting down", drain: true);
    }
}
