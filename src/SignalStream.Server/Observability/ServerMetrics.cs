using Prometheus;
using SignalStream.Protocol;

namespace SignalStream.Server.Observability;

/// <summary>Every Prometheus metric of the server, named once.</summary>
public sealed class ServerMetrics
{
    private static readonly string[] TierNames = [Tier.Starter.ToWire(), Tier.Professional.ToWire(), Tier.Institutional.ToWire()];

    public Gauge Connections { get; } = Metrics.CreateGauge("signalstream_connections", "Open WebSocket connections by tier.", "tier");
    public Counter Connects { get; } = Metrics.CreateCounter("signalstream_connects_total", "WebSocket connections accepted.");
    public Counter Disconnects { get; } = Metrics.CreateCounter("signalstream_disconnects_total",
        "WebSocket connections ended, by close code (0: dropped without a close frame) and by who closed: server, client or none.", "code", "initiator");
    public Counter Upgrades { get; } = Metrics.CreateCounter("signalstream_upgrades_total", "WebSocket upgrades accepted, by the way they came: straight from the connection, or through the HTTP pipeline.", "path");
    public Counter UpgradesRefused { get; } = Metrics.CreateCounter("signalstream_upgrades_refused_total", "WebSocket upgrades refused before the upgrade, by HTTP status.", "status");
    public Counter SignalsIngested { get; } = Metrics.CreateCounter("signalstream_signals_ingested_total", "Ingest requests by result.", "result");
    public Counter Deliveries { get; } = Metrics.CreateCounter("signalstream_deliveries_total", "Signal frames written to sockets.");
    public Counter Drops { get; } = Metrics.CreateCounter("signalstream_drops_total", "Frames not delivered, by reason.", "reason");
    public Gauge OutboundQueueDepth { get; } = Metrics.CreateGauge("signalstream_outbound_queue_depth", "Frames waiting in outbound queues, summed over connections.");
    public Histogram DeliveryLatency { get; } = Metrics.CreateHistogram("signalstream_delivery_latency_seconds",
        "From the start of ingest to the socket write of each delivery: the 500 ms promise, made visible.",
        new HistogramConfiguration { Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    public ServerMetrics()
    {
        foreach (var tier in TierNames) Connections.WithLabels(tier).Set(0);
    }

    public void SetConnections(Tier tier, int count) => Connections.WithLabels(tier.ToWire()).Set(count);
}
