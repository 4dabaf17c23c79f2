using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using SignalStream.Server.Auth;
using SignalStream.Server.Http;
using SignalStream.Server.Observability;
using SignalStream.Server.Streaming;

namespace SignalStream.Server.Ingest;

/// <summary>
/// One token bucket per publisher key, at <see cref="LimitsOptions.IngestPerSecond"/> signals a second, shared by
/// the single and the batch endpoint: a signal takes one token, however it arrives.
/// </summary>
public sealed class IngestRateLimit : IDisposable
{
    private readonly PartitionedRateLimiter<string> _buckets;
    private readonly ServerMetrics _metrics;

    public IngestRateLimit(IOptions<LimitsOptions> limits, ServerMetrics metrics)
    {
        _metrics = metrics;
        PerSecond = limits.Value.IngestPerSecond;
        var perSecond = PerSecond;
        _buckets = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perSecond,
            TokensPerPeriod = perSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
        }));
    }

    /// <summary>The most signals one request may carry: more could never be granted at once.</summary>
    public int PerSecond { get; }

    /// <summary>Null when the key may send <paramref name="signals"/> more now; otherwise the 429 to answer.</summary>
    public IResult? TryTake(HttpContext context, int signals)
    {
        using var lease = _buckets.AttemptAcquire(context.Request.Headers[ApiKeyFilter.Header].ToString(), signals);
        if (lease.IsAcquired) return null;
        _metrics.SignalsIngested.WithLabels("rate_limited").Inc(signals);
        return Problems.Result(StatusCodes.Status429TooManyRequests, "Ingest rate limit reached",
            $"At most {PerSecond} signals per second per publisher key.", retryAfterSeconds: 1);
    }

    public void Dispose() => _buckets.Dispose();
}
