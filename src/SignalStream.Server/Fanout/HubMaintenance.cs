using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Observability;
using SignalStream.Server.Streaming;

namespace SignalStream.Server.Fanout;

/// <summary>
/// Every sweep (once a second, or a quarter of the heartbeat when that is shorter), for every
/// connection: <c>token_expiring</c> before its token runs out and close 4001 when it has; the
/// protocol ping and pong check (<see cref="IStreamTransport.Heartbeat"/>: a no-op for sockets with
/// a timer of their own); publishes queue depth. At shutdown: close every socket with 1001
/// after flushing what is queued.
/// </summary>
public sealed class HubMaintenance(
    ConnectionHub hub,
    IOptions<AuthOptions> auth,
    IOptions<WebSocketsOptions> wsOptions,
    ServerMetrics metrics,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<HubMaintenance> logger) : BackgroundService
{
    private readonly List<StreamConnection> _swept = []; // reused by every sweep (one at a time)

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // ApplicationStopping fires before Kestrel waits for requests to end, so sockets get their 1001 first.
        lifetime.ApplicationStopping.Register(CloseAll);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, wsOptions.Value.HeartbeatInterval.Ticks / 4));
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken)) Sweep();
    }

    internal void Sweep()
    {
        var now = time.GetUtcNow();
        var notice = TimeSpan.FromTicks(Math.Min(auth.Value.ExpiryNotice.Ticks, auth.Value.TokenLifetime.Ticks / 2));
        long depth = 0;
        hub.CopyTo(_swept);
        foreach (var connection in _swept)
        {
            connection.CheckToken(now, notice);
            connection.Heartbeat(time);
            depth += connection.QueueDepth;
        }
        _swept.Clear(); // holds no connection until the next sweep
        metrics.OutboundQueueDepth.Set(depth);
    }

    private void CloseAll()
    {
        var connections = hub.Snapshot();
        logger.ClosingAll(connections.Length);
        foreach (var connection in connections) connection.RequestClose(CloseCodes.GoingAway, "server shutting down", drain: true);
    }
}
