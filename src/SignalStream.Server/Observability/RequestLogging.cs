using System.Diagnostics;
using System.Text;

namespace SignalStream.Server.Observability;

/// <summary>
/// Logs each request with secrets removed from its query string. The platform's own request log
/// prints the raw URL, <c>?token=</c> and all, so it is turned off in configuration and this takes its place.
/// </summary>
public sealed class RequestLogging(RequestDelegate next, ILogger<RequestLogging> logger)
{
    /// <summary>Named in the log with their value removed: where clients put credentials, rightly or not.</summary>
    private static readonly HashSet<string> SecretParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "token", "ticket", "access_token", "api_key", "apikey", "key", "password", "x-api-key", "authorization",
    };

    /// <summary>
    /// The only parameters logged with their values. Anything else is replaced whole, name included:
    /// a client can put a secret under any name, or as a bare <c>?secret</c>, and a deny-list only
    /// catches the names someone thought of.
    /// </summary>
    private static readonly HashSet<string> PlainParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "after_seq", "symbols", "limit", "premium_only",
    };

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            if (logger.IsEnabled(LogLevel.Information))
                logger.Request(context.Request.Method, context.Request.Path, Redact(context.Request.QueryString.Value),
                    context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    public static string Redact(string? query)
    {
        if (string.IsNullOrEmpty(query)) return "";
        var result = new StringBuilder();
        foreach (var pair in query.TrimStart('?').Split('&'))
        {
            result.Append(result.Length == 0 ? '?' : '&');
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            var plainName = Uri.UnescapeDataString(name);
            result.Append(PlainParameters.Contains(plainName) ? pair
                : SecretParameters.Contains(plainName) ? $"{plainName}=[redacted]"
                : "[redacted]");
        }
        return result.ToString();
    }
}
