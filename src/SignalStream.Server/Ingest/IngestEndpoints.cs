using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Http;
using SignalStream.Server.Observability;
using SignalStream.Server.Streaming;

namespace SignalStream.Server.Ingest;

public static class IngestEndpoints
{
    public const string RateLimitPolicy = "ingest";

    public static void MapIngest(this IEndpointRouteBuilder app)
    {
        app.MapPost(Paths.Ingest, HandleAsync)
            .AddEndpointFilter<PublisherKeyFilter>()
            .RequireRateLimiting(RateLimitPolicy);
    }

    /// <summary>The platform's rate limiter, one token bucket per publisher key, at <see cref="LimitsOptions.IngestPerSecond"/>.</summary>
    public static IServiceCollection AddIngestRateLimit(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<LimitsOptions>>((o, limits) =>
        {
            var perSecond = limits.Value.IngestPerSecond;
            o.AddPolicy(RateLimitPolicy, context => RateLimitPartition.GetTokenBucketLimiter(
                context.Request.Headers[PublisherKeyFilter.Header].ToString(),
                _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = perSecond,
                    TokensPerPeriod = perSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                }));
            o.OnRejected = async (context, _) =>
            {
                context.HttpContext.RequestServices.GetRequiredService<ServerMetrics>().SignalsIngested.WithLabels("rate_limited").Inc();
                await Problems.Write(context.HttpContext, StatusCodes.Status429TooManyRequests, "Ingest rate limit reached",
                    $"At most {perSecond} signals per second per publisher key.", retryAfterSeconds: 1);
            };
        });
        return services;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, IngestService ingest, IOptions<LimitsOptions> limits, ServerMetrics metrics, ILogger<IngestService> logger)
    {
        var started = Stopwatch.GetTimestamp();
        var validating = Tracing.Source.StartActivity(Tracing.Spans.Validate);
        var (document, refusal) = await JsonBody.ReadAsync(context.Request, limits.Value.IngestMaxBodyBytes, limits.Value.IngestBodyTimeout);
        if (refusal is not null)
        {
            validating?.SetStatus(ActivityStatusCode.Error).Dispose();
            metrics.SignalsIngested.WithLabels("rejected").Inc();
            return refusal;
        }
        using (document)
        {
            var signal = SignalRules.Validate(document!.RootElement, out var errors);
            validating?.SetStatus(signal is null ? ActivityStatusCode.Error : ActivityStatusCode.Ok).Dispose();
            if (signal is null)
            {
                metrics.SignalsIngested.WithLabels("rejected").Inc();
                logger.IngestRefused(StatusCodes.Status400BadRequest, string.Join(", ", errors.Keys));
                return Results.ValidationProblem(errors, title: "The signal is invalid", detail: "See errors for each field.");
            }
            try
            {
                var result = await ingest.IngestAsync(signal, started, context.RequestAborted);
                var body = new IngestResponse(result.Signal.Id, result.Signal.Seq, result.Duplicate);
                return result.Duplicate
                    ? Results.Json(body, ProtocolJson.Default.IngestResponse)
                    : Results.Json(body, ProtocolJson.Default.IngestResponse, statusCode: StatusCodes.Status201Created);
            }
            catch (Exception e) when (Problems.IsOutage(e))
            {
                metrics.SignalsIngested.WithLabels("storage_failed").Inc();
                logger.IngestStorageFailed(e);
                return Problems.StorageUnavailable();
            }
        }
    }
}
