using System.Diagnostics;
using System.Net.Mime;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Http;
using SignalStream.Server.Observability;
using SignalStream.Server.Streaming;

namespace SignalStream.Server.Ingest;

public static class IngestEndpoints
{
    public const string NdjsonMediaType = "application/x-ndjson";

    public static void MapIngest(this IEndpointRouteBuilder app)
    {
        app.MapPost(Paths.Ingest, HandleAsync).AddEndpointFilter<PublisherKeyFilter>();
        app.MapPost(Paths.IngestBatch, HandleBatchAsync).AddEndpointFilter<PublisherKeyFilter>();
    }

    private static async Task<IResult> HandleAsync(HttpContext context, IngestService ingest, IngestRateLimit rate, IOptions<LimitsOptions> limits, ServerMetrics metrics, ILogger<IngestService> logger)
    {
        var started = Stopwatch.GetTimestamp();
        if (rate.TryTake(context, 1) is { } limited) return limited;
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
            catch (Exception e) when (IsUnavailable(e))
            {
                metrics.SignalsIngested.WithLabels("storage_failed").Inc();
                logger.IngestStorageFailed(e);
                return Problems.StorageUnavailable();
            }
        }
    }

    /// <summary>
    /// Extension (docs/protocol.md): a JSON array of signals, or NDJSON (one per line). Each item is checked and
    /// answered as the single endpoint would; the valid ones are stored in order (group commit stores them together).
    /// </summary>
    private static async Task<IResult> HandleBatchAsync(HttpContext context, IngestService ingest, IngestRateLimit rate, IOptions<LimitsOptions> limits, ServerMetrics metrics, ILogger<IngestService> logger)
    {
        var started = Stopwatch.GetTimestamp();
        var ndjson = context.Request.ContentType?.Split(';')[0].Trim().Equals(NdjsonMediaType, StringComparison.OrdinalIgnoreCase) == true;
        if (!ndjson && !JsonBody.HasJsonContentType(context.Request))
            return Problems.Result(StatusCodes.Status415UnsupportedMediaType, $"Content-Type must be {MediaTypeNames.Application.Json} (an array) or {NdjsonMediaType}");
        var (body, refusal) = await JsonBody.ReadBytesAsync(context.Request, limits.Value.IngestBatchMaxBodyBytes, limits.Value.IngestBodyTimeout);
        if (refusal is not null) return refusal;

        var maxItems = Math.Min(limits.Value.IngestBatchMaxItems, rate.PerSecond);
        var (items, malformed) = BatchItems.Parse(body, ndjson);
        if (malformed is not null) return malformed;
        if (items.Count == 0 || items.Count > maxItems)
        {
            foreach (var item in items) item.Document?.Dispose();
            return Problems.Result(items.Count == 0 ? StatusCodes.Status400BadRequest : StatusCodes.Status413PayloadTooLarge,
                "A batch holds 1 to " + maxItems + " signals", $"This one holds {items.Count}.");
        }

        var results = new BatchItemResult[items.Count];
        var valid = new List<(int Index, ValidSignal Signal)>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            using var document = items[i].Document;
            var errors = items[i].Errors;
            var signal = document is null ? null : SignalRules.Validate(document.RootElement, out errors);
            if (signal is null)
            {
                metrics.SignalsIngested.WithLabels("rejected").Inc();
                results[i] = new BatchItemResult(i, StatusCodes.Status400BadRequest) { Title = "The signal is invalid", Errors = errors };
            }
            else valid.Add((i, signal));
        }
        if (valid.Count > 0 && rate.TryTake(context, valid.Count) is { } limited) return limited;
        if (valid.Count < items.Count) logger.IngestRefused(StatusCodes.Status400BadRequest, $"{items.Count - valid.Count} of {items.Count} batch items");

        var pending = await ingest.QueueAsync(valid.ConvertAll(v => v.Signal), started, context.RequestAborted);
        for (var v = 0; v < valid.Count; v++)
        {
            var index = valid[v].Index;
            try
            {
                var result = await pending[v];
                results[index] = new BatchItemResult(index, result.Duplicate ? StatusCodes.Status200OK : StatusCodes.Status201Created)
                {
                    Id = result.Signal.Id, Seq = result.Signal.Seq, Duplicate = result.Duplicate,
                };
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                metrics.SignalsIngested.WithLabels("storage_failed").Inc();
                logger.IngestStorageFailed(e);
                results[index] = new BatchItemResult(index, StatusCodes.Status503ServiceUnavailable) { Title = "Storage unavailable: nothing was stored; retry it" };
            }
        }
        return Results.Json(new BatchIngestResponse(results), ProtocolJson.Default.BatchIngestResponse);
    }

    /// <summary>Storage down, or the server stopping (its queue takes no more).</summary>
    private static bool IsUnavailable(Exception e) => Problems.IsOutage(e) || e is ChannelClosedException;
}

/// <summary>The items of a batch body: each one parsed on its own (an NDJSON line that is not JSON fails only that item).</summary>
internal static class BatchItems
{
    public sealed record Item(JsonDocument? Document, Dictionary<string, string[]> Errors);

    public static (List<Item> Items, IResult? Malformed) Parse(ReadOnlyMemory<byte> body, bool ndjson)
    {
        var items = new List<Item>();
        if (!ndjson)
        {
            JsonDocument array;
            try { array = JsonDocument.Parse(body); }
            catch (JsonException e) { return (items, Problems.Result(StatusCodes.Status400BadRequest, "Malformed JSON", JsonBody.MalformedDetail(e))); }
            using (array)
            {
                if (array.RootElement.ValueKind != JsonValueKind.Array)
                    return (items, Problems.Result(StatusCodes.Status400BadRequest, "The body must be a JSON array of signals"));
                foreach (var element in array.RootElement.EnumerateArray())
                    items.Add(new Item(JsonDocument.Parse(element.GetRawText()), []));
            }
            return (items, null);
        }
        var rest = body;
        while (rest.Length > 0)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 1)..];
            if (line.Span.Trim(" \t\r"u8).IsEmpty) continue;
            try { items.Add(new Item(JsonDocument.Parse(line), [])); }
            catch (JsonException e) { items.Add(new Item(null, new() { ["$"] = [JsonBody.MalformedDetail(e)] })); }
        }
        return (items, null);
    }
}
