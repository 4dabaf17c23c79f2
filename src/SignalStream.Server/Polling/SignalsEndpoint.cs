using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Fanout;
using SignalStream.Server.Http;
using SignalStream.Server.Storage;
using SignalStream.Server.Users;

namespace SignalStream.Server.Polling;

/// <summary>
/// <c>GET /api/v1/signals</c>, the polling path: <c>{"signals":[...],"last_seq":N,"oldest_seq":M,"epoch":E}</c>, tier-filtered
/// in the query itself. Stored JSON is copied into the answer as it is, never re-serialized.
/// </summary>
public static class SignalsEndpoint
{
    public const int DefaultLimit = 10;
    public const int MaxLimit = 500;

    public static void MapSignals(this IEndpointRouteBuilder app) => app.MapGet(Paths.Signals, HandleAsync);

    private static async Task HandleAsync(HttpContext context, TokenService tokens, UserDirectory users, ISignalStore store, ConnectionHub hub)
    {
        var (current, refusal) = await CurrentUser.ResolveAsync(context, tokens, users);
        if (current is null) { await refusal!.ExecuteAsync(context); return; }
        var tier = current.Value.User.Tier;

        var query = context.Request.Query;
        var errors = new Dictionary<string, string[]>();
        var limit = DefaultLimit;
        if (query.TryGetValue("limit", out var l) && (!int.TryParse(l, out limit) || limit < 1 || limit > MaxLimit)) errors["limit"] = [$"an integer from 1 to {MaxLimit}"];
        var premiumOnly = false;
        if (query.TryGetValue("premium_only", out var p) && !bool.TryParse(p, out premiumOnly)) errors["premium_only"] = ["true or false"];
        long? afterSeq = null;
        if (query.TryGetValue("after_seq", out var a))
        {
            if (long.TryParse(a, out var after) && after >= 0) afterSeq = after;
            else errors["after_seq"] = ["a non-negative integer"];
        }
        if (errors.Count > 0) { await Results.ValidationProblem(errors, title: "Invalid query").ExecuteAsync(context); return; }

        IReadOnlyList<StoredSignal> signals;
        HistoryBounds bounds;
        try
        {
            bounds = await store.GetBoundsAsync(context.RequestAborted);
            signals = afterSeq is { } after
                ? await store.ReadAfterAsync(after, tier, limit, premiumOnly, context.RequestAborted)
                : await store.ReadLatestAsync(tier, limit, premiumOnly, context.RequestAborted);
        }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            await Problems.StorageUnavailable().ExecuteAsync(context);
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteStartArray("signals");
        foreach (var signal in signals) writer.WriteRawValue(signal.Json, skipInputValidation: true);
        writer.WriteEndArray();
        writer.WriteNumber("last_seq", Math.Max(bounds.LastSeq, hub.LastSeq));
        writer.WriteNumber("oldest_seq", bounds.OldestSeq);
        writer.WriteString("epoch", bounds.Epoch);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }
}
