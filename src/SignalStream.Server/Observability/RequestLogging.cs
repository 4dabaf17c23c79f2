using System.Diagnostics;
using System.Text;

namespace SignalStream.Server.Observability;

/// <summary>
/// Logs each request with secrets removed from its query string. The platform's own request log
/// prints the raw URL, <c>?token=</c> and all, so it is turned off in configuration and this takes its place.
/// </summary>
public sealed class RequestLogging(RequestDelegate next, ILogger<RequestLogging> logger)
{
    private static readonly HashSet<string> SecretParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "token", "ticket", "access_token", "api_key", "apikey", "key", "password",
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
            result.Append(SecretParameters.Contains(Uri.UnescapeDataString(name)) ? $"{name}=[redacted]" : pair);
        }
        return result.ToString();
    }
}
