using System.Data.Common;
using System.Net.Mime;
using System.Text.Json;

namespace SignalStream.Server.Hosting;

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

/// <summary>Reads <c>Authorization: Bearer</c>.</summary>
public static class BearerToken
{
    public static string? From(HttpRequest request) => From(request.Headers.Authorization.ToString());

    /// <param name="header">The Authorization header's value.</param>
    public static string? From(string? header) =>
        header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
}

/// <summary>Reads request bodies as JSON with a size limit and a deadline, refusing with the right status.</summary>
public static class JsonBody
{
    public static async Task<(JsonDocument? Document, IResult? Refusal)> ReadAsync(HttpRequest request, int maxBytes, TimeSpan timeout)
    {
        if (!HasJsonContentType(request))
            return (null, Problems.Result(StatusCodes.Status415UnsupportedMediaType, "Content-Type must be application/json"));
        if (request.ContentLength > maxBytes)
            return (null, Problems.Result(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"At most {maxBytes} bytes."));

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted);
        deadline.CancelAfter(timeout);
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, deadline.Token)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                    return (null, Problems.Result(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"At most {maxBytes} bytes."));
                buffer.Write(chunk, 0, read);
            }
        }
        catch (OperationCanceledException) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return (null, Problems.Result(StatusCodes.Status408RequestTimeout, "Request body too slow", $"Send the whole body within {timeout.TotalSeconds:0} s."));
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            return (null, Problems.Result(e.StatusCode, "Request body could not be read"));
        }

        try
        {
            return (JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)), null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Result(StatusCodes.Status400BadRequest, "Malformed JSON", $"The body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine})."));
        }
    }

    public static bool HasJsonContentType(HttpRequest request) =>
        request.ContentType is { } type && type.Split(';')[0].Trim() is var media
        && (media.Equals(MediaTypeNames.Application.Json, StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
}
