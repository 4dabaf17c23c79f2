using System.Net.Mime;
using System.Text.Json;

namespace SignalStream.Server.Http;

/// <summary>Reads request bodies as JSON with a size limit and a deadline, refusing with the right status.</summary>
public static class JsonBody
{
    public static async Task<(JsonDocument? Document, IResult? Refusal)> ReadAsync(HttpRequest request, int maxBytes, TimeSpan timeout)
    {
        if (!HasJsonContentType(request))
            return (null, Problems.Result(StatusCodes.Status415UnsupportedMediaType, "Content-Type must be application/json"));
        var (body, refusal) = await ReadBytesAsync(request, maxBytes, timeout);
        if (refusal is not null) return (null, refusal);
        try
        {
            return (JsonDocument.Parse(body), null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Result(StatusCodes.Status400BadRequest, "Malformed JSON", MalformedDetail(e)));
        }
    }

    /// <summary>The whole body, at most <paramref name="maxBytes"/>, within <paramref name="timeout"/>.</summary>
    public static async Task<(ReadOnlyMemory<byte> Body, IResult? Refusal)> ReadBytesAsync(HttpRequest request, int maxBytes, TimeSpan timeout)
    {
        if (request.ContentLength > maxBytes)
            return (default, Problems.Result(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"At most {maxBytes} bytes."));

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
                    return (default, Problems.Result(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"At most {maxBytes} bytes."));
                buffer.Write(chunk, 0, read);
            }
        }
        catch (OperationCanceledException) when (!request.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return (default, Problems.Result(StatusCodes.Status408RequestTimeout, "Request body too slow", $"Send the whole body within {timeout.TotalSeconds:0} s."));
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            return (default, Problems.Result(e.StatusCode, "Request body could not be read"));
        }
        return (buffer.GetBuffer().AsMemory(0, (int)buffer.Length), null);
    }

    public static string MalformedDetail(JsonException e) => $"The body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}).";

    public static bool HasJsonContentType(HttpRequest request) =>
        request.ContentType is { } type && type.Split(';')[0].Trim() is var media
        && (media.Equals(MediaTypeNames.Application.Json, StringComparison.OrdinalIgnoreCase) || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
}
