using Microsoft.Extensions.Logging.Console;

namespace SignalStream.Server.Observability;

/// <summary>
/// The console log, plain (the default) or JSON (<c>--log-format json</c>, or <c>Logging:Console:FormatterName=json</c>):
/// both stamped with an ISO 8601 UTC time; inside a trace every line carries its trace and span ids (as a scope:
/// <c>Scopes</c> in JSON). The messages are the same source-generated events either way, so what is redacted in one is
/// redacted in the other.
/// </summary>
internal static class LogFormats
{
    public const string Timestamp = "yyyy-MM-ddTHH:mm:ss.fffZ";

    public static ILoggingBuilder AddServerLogFormats(this ILoggingBuilder logging)
    {
        logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        logging.Services.Configure<SimpleConsoleFormatterOptions>(o =>
        {
            o.TimestampFormat = Timestamp + " ";
            o.UseUtcTimestamp = true;
        });
        logging.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.TimestampFormat = Timestamp;
            o.UseUtcTimestamp = true;
            o.IncludeScopes = true;
        });
        return logging;
    }
}
