using Prometheus;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Fanout;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Observability;

public static class ObservabilityEndpoints
{
    public static void MapObservability(this IEndpointRouteBuilder app, ObservabilityOptions options)
    {
        app.MapGet("/healthz", () => Results.Json(new { status = "ok" }));
        app.MapGet("/readyz", async (IStorageHealth storage, IEnumerable<IReadinessCheck> checks, CancellationToken ct) =>
        {
            var results = new Dictionary<string, bool> { ["storage"] = await ProbeAsync(() => storage.IsHealthyAsync(ct)) };
            foreach (var check in checks) results[check.Name] = await ProbeAsync(() => check.IsReadyAsync(ct));
            var ready = results.Values.All(ok => ok);
            return Results.Json(new { status = ready ? "ready" : "not_ready", checks = results },
                statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });

        var stats = app.MapGet(Paths.Stats, async (ClusterStats cluster) => Results.Json(await cluster.GetAsync(), ProtocolJson.Default.StatsResponse));
        if (!options.PublicStats) stats.AddEndpointFilter<AdminKeyFilter>();

        var metrics = app.MapGet("/metrics", async (HttpContext context, ServerMetrics server, CancellationToken ct) =>
        {
            // Exemplars (trace ids on the latency histogram) exist only in OpenMetrics, which Prometheus asks for.
            var openMetrics = context.Request.Headers.Accept.ToString().Contains("application/openmetrics-text", StringComparison.Ordinal);
            context.Response.ContentType = openMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8" : "text/plain; version=0.0.4; charset=utf-8";
            await server.Registry.CollectAndExportAsTextAsync(context.Response.Body, openMetrics ? ExpositionFormat.OpenMetricsText : ExpositionFormat.PrometheusText, ct);
            return Results.Empty;
        });
        if (!options.PublicMetrics) metrics.AddEndpointFilter<AdminKeyFilter>();
    }

    /// <summary>A check that throws is a check that failed: readiness answers 503 then, never 500.</summary>
    private static async Task<bool> ProbeAsync(Func<Task<bool>> check)
    {
        try
        {
            return await check();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return false;
        }
    }
}

/// <summary>Something besides storage that readiness depends on (the backplane, when there is one).</summary>
public interface IReadinessCheck
{
    string Name { get; }
    Task<bool> IsReadyAsync(CancellationToken ct);
}

/// <summary>The figures of <c>/ws/stats</c>: counts only, never user ids, addresses or tokens.</summary>
public class ClusterStats(ConnectionHub hub)
{
    public virtual Task<StatsResponse> GetAsync()
    {
        var s = hub.GetStats();
        return Task.FromResult(new StatsResponse(s.TotalConnections, s.ActiveUsers, ByTier(s.UsersByTier), ByTier(s.ConnectionsByTier), s.LastSeq));
    }

    public static Dictionary<string, int> ByTier(int[] counts) => new()
    {
        [Tier.Starter.ToWire()] = counts[0],
        [Tier.Professional.ToWire()] = counts[1],
        [Tier.Institutional.ToWire()] = counts[2],
    };
}
