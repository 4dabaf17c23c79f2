using System.Diagnostics;
using System.Reflection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using SignalStream.Protocol;
using SignalStream.Server.Cluster;

namespace SignalStream.Server.Observability;

/// <summary>
/// Traces of the signal path, exported over OTLP. Off unless an endpoint is configured
/// (<c>Observability:Otlp:Endpoint</c>, or the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>): then nothing
/// listens to <see cref="Source"/> and starting a span costs a null check.
/// </summary>
public static class Tracing
{
    public const string SourceName = "SignalStream.Server";
    public const string ServiceName = "signalstream";

    /// <summary>The span names, one place: docs/operations.md, "Traces", lists them.</summary>
    public static class Spans
    {
        public const string Validate = "signal.validate";
        public const string Store = "signal.store";
        public const string Fanout = "signal.fanout";
        public const string Publish = "backplane.publish";
    }

    public static readonly string Version =
        typeof(Tracing).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public static readonly ActivitySource Source = new(SourceName, Version);

    public static bool IsEnabled(IConfiguration config) =>
        !string.IsNullOrEmpty(config[ObservabilityOptions.Section + ":Otlp:Endpoint"]) || !string.IsNullOrEmpty(config["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static IServiceCollection AddTracing(this IServiceCollection services, IConfiguration config)
    {
        if (!IsEnabled(config)) return services;
        var nodeId = config.GetSection(ClusterOptions.Section).Get<ClusterOptions>()?.NodeId ?? new ClusterOptions().NodeId;
        // The node id is fixed here, for the resource, and for everything else that reads ClusterOptions.
        services.PostConfigure<ClusterOptions>(o => o.NodeId = nodeId);
        var endpoint = config[ObservabilityOptions.Section + ":Otlp:Endpoint"];
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName, serviceVersion: Version, serviceInstanceId: nodeId, autoGenerateServiceInstanceId: false))
            .WithTracing(tracing => tracing
                .AddSource(SourceName)
                // Requests are spans (an ingest's is the root of its signal's trace), scrapes and probes are not.
                .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                    !context.Request.Path.StartsWithSegments("/metrics") && !context.Request.Path.StartsWithSegments("/healthz")
                    && !context.Request.Path.StartsWithSegments("/readyz"))
                .AddOtlpExporter(o =>
                {
                    // Our own setting is a base address, like the standard variable, spoken over OTLP/HTTP.
                    if (string.IsNullOrEmpty(endpoint)) return;
                    o.Protocol = OtlpExportProtocol.HttpProtobuf;
                    o.Endpoint = new Uri(endpoint.TrimEnd('/') + "/v1/traces");
                }));
        return services;
    }

    /// <summary>The W3C <c>traceparent</c> of a span context.</summary>
    public static string ToTraceparent(ActivityContext context) =>
        $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{(context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";

    /// <summary>Tags a span with the signal it is about.</summary>
    public static Activity? TagSignal(this Activity? activity, long seq, string symbol, Tier minTier) =>
        activity?.SetTag("signalstream.seq", seq).SetTag("signalstream.symbol", symbol).SetTag("signalstream.min_tier", minTier.ToWire());
}
