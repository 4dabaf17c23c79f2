namespace SignalStream.Protocol;

/// <summary>
/// Prices of a signal must make sense together: a BUY has its stop loss below and its take profit above the entry
/// price, a SELL the other way round. The server refuses a signal that breaks it; the CLI checks it before sending,
/// with these same words.
/// </summary>
public static class PriceRule
{
    /// <summary>
    /// The broken parts of the rule as (field, message) pairs; none when the prices agree, when the entry price is not
    /// given, or when the side is neither BUY nor SELL (any case): that is another rule's refusal.
    /// </summary>
    public static IEnumerable<(string Field, string Message)> Violations(string? side, decimal? entryPrice, decimal? stopLoss, decimal? takeProfit)
    {
        var buy = string.Equals(side, "BUY", StringComparison.OrdinalIgnoreCase);
        if (entryPrice is not { } entry || !(buy || string.Equals(side, "SELL", StringComparison.OrdinalIgnoreCase)))
            yield break;
        var below = buy ? "below" : "above";
        var above = buy ? "above" : "below";
        var name = buy ? "BUY" : "SELL";
        if (stopLoss is { } stop && (buy ? stop >= entry : stop <= entry))
            yield return ("stop_loss", $"must be {below} entry_price for a {name}");
        if (takeProfit is { } take && (buy ? take <= entry : take >= entry))
            yield return ("take_profit", $"must be {above} entry_price for a {name}");
    }
}
