using Prometheus;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;

namespace SignalStream.Server.Observability;

/// <summary>
/// Every Prometheus metric of the server, named once, in a registry of its own: what <c>/metrics</c> of this server
/// shows is this server's alone, even beside other servers in one process (tests), whose exemplars would otherwise
/// overwrite its own. The platform's meters are bridged into the same registry (<see cref="MeterBridge"/>).
/// </summary>
public sealed class ServerMetrics : IDisposable
{
    private static readonly string[] TierNames = [Tier.Starter.ToWire(), Tier.Professional.ToWire(), Tier.Institutional.ToWire()];
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
    private readonly MeterBridge _bridge;

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();
    public Gauge Connections { get; }
    public Counter Connects { get; }
    public Counter Disconnects { get; }
    public Counter Upgrades { get; }
    public Counter UpgradesRefused { get; }
    public Counter SignalsIngested { get; }
    public Counter Deliveries { get; }
    public Counter Drops { get; }
    public Gauge OutboundQueueDepth { get; }
    public Histogram DeliveryLatency { get; }
    public Histogram BackplaneLag { get; }

    public ServerMetrics()
    {
        var metrics = Metrics.WithCustomRegistry(Registry);
        Connections = metrics.CreateGauge("signalstream_connections", "Open WebSocket connections by tier.", "tier");
        Connects = metrics.CreateCounter("signalstream_connects_total", "WebSocket connections accepted.");
        Disconnects = metrics.CreateCounter("signalstream_disconnects_total",
            "WebSocket connections ended, by close code (0: dropped without a close frame) and by who closed: server, client or none.", "code", "initiator");
        Upgrades = metrics.CreateCounter("signalstream_upgrades_total", "WebSocket upgrades accepted, by the way they came: straight from the connection, or through the HTTP pipeline.", "path");
        UpgradesRefused = metrics.CreateCounter("signalstream_upgrades_refused_total", "WebSocket upgrades refused before the upgrade, by HTTP status.", "status");
        SignalsIngested = metrics.CreateCounter("signalstream_signals_ingested_total", "Ingest requests by result.", "result");
        Deliveries = metrics.CreateCounter("signalstream_deliveries_total", "Signal frames written to sockets.");
        Drops = metrics.CreateCounter("signalstream_drops_total", "Frames not delivered, by reason.", "reason");
        OutboundQueueDepth = metrics.CreateGauge("signalstream_outbound_queue_depth", "Frames waiting in outbound queues, summed over connections.");
        DeliveryLatency = metrics.CreateHistogram("signalstream_delivery_latency_seconds",
            "From the start of ingest to the socket write of each delivery: the 500 ms promise, made visible.",
            new HistogramConfiguration
            {
                Buckets = LatencyBuckets,
                // Exemplars come from the frame's fan-out span (below), never from whatever span is current on a send loop.
                ExemplarBehavior = new ExemplarBehavior { DefaultExemplarProvider = null, NewExemplarMinInterval = TimeSpan.FromSeconds(1) },
            });
        BackplaneLag = metrics.CreateHistogram("signalstream_backplane_lag_seconds",
            "From the start of ingest on another node to this node receiving the signal from the backplane (wall clocks of two nodes: skew included).",
            new HistogramConfiguration { Buckets = LatencyBuckets });

        foreach (var tier in TierNames) Connections.WithLabels(tier).Set(0);
        DotNetStats.Register(Registry); // process_* and dotnet_* of prometheus-net, as the default registry had them
        _bridge = new MeterBridge(Registry);
    }

    public void SetConnections(Tier tier, int count) => Connections.WithLabels(tier.ToWire()).Set(count);

    /// <summary>A delivery's latency; the first of each traced signal carries an exemplar pointing at its fan-out span.</summary>
    public void ObserveDelivery(TimeSpan latency, FanoutTrace? trace)
    {
        if (trace is not null && trace.TryTakeExemplar()) DeliveryLatency.Observe(latency.TotalSeconds, Exemplar.From(trace.TraceIdLabel, trace.SpanIdLabel));
        else DeliveryLatency.Observe(latency.TotalSeconds, Exemplar.None);
    }

    public void Dispose() => _bridge.Dispose();
}
