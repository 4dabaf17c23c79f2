using System.Globalization;
using System.Text.Json;
using SignalStream.Protocol;

namespace SignalStream.Server.Ingest;

/// <summary>A publisher's signal that passed every rule, normalized (upper-case symbol and side, effective min tier).</summary>
public sealed record ValidSignal(
    string ExternalId, string Source, string Symbol, string Side,
    decimal? EntryPrice, decimal? StopLoss, decimal? TakeProfit, double? Confidence,
    string? Timeframe, Tier MinTier, string? Notes, DateTimeOffset? GeneratedAt)
{
    public Signal ToStored(string id, long seq, DateTimeOffset receivedAt) => new()
    {
        Id = id, Seq = seq, ExternalId = ExternalId, Source = Source, Symbol = Symbol, Side = Side,
        EntryPrice = EntryPrice, StopLoss = StopLoss, TakeProfit = TakeProfit, Confidence = Confidence,
        Timeframe = Timeframe, Premium = TierRule.IsPremium(MinTier), MinTier = MinTier, Notes = Notes,
        GeneratedAt = GeneratedAt, ReceivedAt = receivedAt,
    };
}

/// <summary>The rules a published signal must pass; each failure names its field.</summary>
public static class SignalRules
{
    public const int MaxSymbolsPerFilter = 100;
    private const int MaxIdLength = 128;
    private const int MaxSymbolLength = 32;
    private const int MaxNotesLength = 4000;

    public static bool IsValidSymbol(string symbol) =>
        symbol.Length is > 0 and <= MaxSymbolLength && symbol.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':');

    public static ValidSignal? Validate(JsonElement body, out Dictionary<string, string[]> errors)
    {
        errors = [];
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors["$"] = ["the body must be a JSON object"];
            return null;
        }
        var e = errors;
        void Fail(string field, string message) => e[field] = [message];

        var externalId = RequiredString(body, "external_id", MaxIdLength, Fail);
        var source = RequiredString(body, "source", MaxIdLength, Fail);
        var symbol = RequiredString(body, "symbol", MaxSymbolLength, Fail)?.ToUpperInvariant();
        if (symbol is not null && !IsValidSymbol(symbol)) Fail("symbol", "letters, digits and - _ . / : only");
        var side = RequiredString(body, "side", 4, Fail)?.ToUpperInvariant();
        if (side is not null && side is not ("BUY" or "SELL")) Fail("side", "must be BUY or SELL");

        var entry = Price(body, "entry_price", Fail);
        var stop = Price(body, "stop_loss", Fail);
        var take = Price(body, "take_profit", Fail);
        foreach (var (field, message) in PriceRule.Violations(side, entry, stop, take)) Fail(field, message);
        double? confidence = null;
        if (Present(body, "confidence", out var c))
        {
            if (c.ValueKind != JsonValueKind.Number || !c.TryGetDouble(out var value) || !double.IsFinite(value)) Fail("confidence", "must be a number");
            else if (value is < 0 or > 1) Fail("confidence", "must be within 0 to 1");
            else confidence = value;
        }
        var timeframe = OptionalString(body, "timeframe", 16, Fail);
        var notes = OptionalString(body, "notes", MaxNotesLength, Fail);

        var premium = false;
        if (Present(body, "premium", out var p))
        {
            if (p.ValueKind is JsonValueKind.True or JsonValueKind.False) premium = p.GetBoolean();
            else Fail("premium", "must be true or false");
        }
        Tier? minTier = null;
        if (Present(body, "min_tier", out var t))
        {
            if (t.ValueKind == JsonValueKind.String && TierRule.TryParse(t.GetString(), out var parsed)) minTier = parsed;
            else Fail("min_tier", "must be STARTER, PROFESSIONAL or INSTITUTIONAL");
        }
        DateTimeOffset? generatedAt = null;
        if (Present(body, "generated_at", out var g))
        {
            if (g.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(g.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
                generatedAt = at;
            else Fail("generated_at", "must be an RFC 3339 time");
        }

        if (errors.Count > 0) return null;
        return new ValidSignal(externalId!, source!, symbol!, side!, entry, stop, take, confidence, timeframe,
            TierRule.EffectiveMinTier(premium, minTier), notes, generatedAt);
    }

    private static bool Present(JsonElement body, string name, out JsonElement value) =>
        body.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static string? RequiredString(JsonElement body, string name, int maxLength, Action<string, string> fail)
    {
        if (!Present(body, name, out var value)) { fail(name, "is required"); return null; }
        return CheckString(value, name, maxLength, fail);
    }

    private static string? OptionalString(JsonElement body, string name, int maxLength, Action<string, string> fail) =>
        Present(body, name, out var value) ? CheckString(value, name, maxLength, fail) : null;

    private static string? CheckString(JsonElement value, string name, int maxLength, Action<string, string> fail)
    {
        if (value.ValueKind != JsonValueKind.String) { fail(name, "must be a string"); return null; }
        var text = value.GetString()!.Trim();
        if (text.Length == 0) { fail(name, "must not be empty"); return null; }
        if (text.Length > maxLength) { fail(name, $"must be at most {maxLength} characters"); return null; }
        return text;
    }

    private static decimal? Price(JsonElement body, string name, Action<string, string> fail)
    {
        if (!Present(body, name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var price)) { fail(name, "must be a number"); return null; }
        if (price <= 0) { fail(name, "must be positive"); return null; }
        return price;
    }
}
