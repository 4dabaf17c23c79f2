using System.Data.Common;
using System.Diagnostics;

namespace SignalStream.Server.Http;

/// <summary>RFC 9457 problem bodies, and which failures mean "a dependency is down" (503) rather than a bug.</summary>
public static class Problems
{
    public static async Task Write(HttpContext context, int status, string title, string? detail = null, int retryAfterSeconds = 0)
    {
        context.Response.StatusCode = status;
        if (retryAfterSeconds > 0) context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Results.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
    }

    public static IResult Result(int status, string title, string? detail = null, int retryAfterSeconds = 0) =>
        new WithRetryAfter(Results.Problem(statusCode: status, title: title, detail: detail), retryAfterSeconds);

    public static IResult StorageUnavailable() => Result(StatusCodes.Status503ServiceUnavailable, "Storage unavailable", "Nothing was stored; retry shortly.", 2);

    /// <summary>
    /// The <c>traceId</c> of every problem body: the W3C trace id of the request's span while tracing, else the
    /// request's own id (the platform's default puts the whole <c>traceparent</c> there, or the connection id).
    /// </summary>
    public static void UseTraceId(ProblemDetailsContext context) =>
        context.ProblemDetails.Extensions["traceId"] = Activity.Current is { } activity ? activity.TraceId.ToHexString() : context.HttpContext.TraceIdentifier;

    /// <summary>The database or Redis could not be reached or answered in time.</summary>
    public static bool IsOutage(Exception e) =>
        e is DbException or IOException or TimeoutException or System.Net.Sockets.SocketException or StackExchange.Redis.RedisException
        || (e.InnerException is { } inner && IsOutage(inner));

    private sealed class WithRetryAfter(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            if (seconds > 0) httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
