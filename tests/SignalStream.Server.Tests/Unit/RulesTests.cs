using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Ingest;

namespace SignalStream.Server.Tests.Unit;

public sealed class TierRuleTests
{
    [Theory]
    [InlineData(Tier.Starter, Tier.Starter, true)]
    [InlineData(Tier.Starter, Tier.Professional, false)]
    [InlineData(Tier.Professional, Tier.Institutional, false)]
    [InlineData(Tier.Institutional, Tier.Professional, true)]
    public void CanSee_AtOrAboveMinTier(Tier user, Tier minTier, bool expected) => Assert.Equal(expected, TierRule.CanSee(user, minTier));

    [Theory]
    [InlineData(false, null, Tier.Starter)]
    [InlineData(true, null, Tier.Professional)]
    [InlineData(true, Tier.Starter, Tier.Professional)]
    [InlineData(true, Tier.Institutional, Tier.Institutional)]
    [InlineData(false, Tier.Institutional, Tier.Institutional)]
    public void EffectiveMinTier_TheHigherOfPremiumAndMinTier(bool premium, Tier? minTier, Tier expected) =>
        Assert.Equal(expected, TierRule.EffectiveMinTier(premium, minTier));

    [Fact]
    public void Tier_RoundTripsAsUpperCaseWireName()
    {
        Assert.Equal("\"PROFESSIONAL\"", JsonSerializer.Serialize(Tier.Professional, ProtocolJson.Default.Tier));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("1", ProtocolJson.Default.Tier));
    }
}

public sealed class SignalRulesTests
{
    private static ValidSignal? Validate(string json, out Dictionary<string, string[]> errors)
    {
        using var document = JsonDocument.Parse(json);
        return SignalRules.Validate(document.RootElement, out errors);
    }

    [Fact]
    public void Validate_FullSignal_NormalizesAndKeepsPremiumConsistent()
    {
        var signal = Validate("""{"external_id":" p-1 ","source":"acme","symbol":"btc-usd","side":"sell","entry_price":65000.5,"confidence":0.5,"premium":true,"unknown":"ignored"}""", out var errors);
        Assert.Empty(errors);
        Assert.Equal(("p-1", "BTC-USD", "SELL", Tier.Professional), (signal!.ExternalId, signal.Symbol, signal.Side, signal.MinTier));
        var stored = signal.ToStored("id", 1, DateTimeOffset.UnixEpoch);
        Assert.True(stored.Premium);
    }

    [Fact]
    public void Validate_ReportsEveryBadFieldAtOnce()
    {
        Assert.Null(Validate("""{"side":"HOLD","confidence":-0.1,"take_profit":0}""", out var errors));
        Assert.Equal(new[] { "confidence", "external_id", "side", "source", "symbol", "take_profit" }, errors.Keys.Order());
    }

    [Theory]
    [InlineData("BUY", 100, 99, 101, null, null)]
    [InlineData("SELL", 100, 101, 99, null, null)]
    [InlineData("BUY", 100, 100, 101, "stop_loss", "must be below entry_price for a BUY")]
    [InlineData("BUY", 100, 99, 98, "take_profit", "must be above entry_price for a BUY")]
    [InlineData("SELL", 100, 99, 98, "stop_loss", "must be above entry_price for a SELL")]
    [InlineData("sell", 100, 101, 102, "take_profit", "must be below entry_price for a SELL")]
    [InlineData("BUY", null, 200, 1, null, null)]
    public void Validate_PricesOnTheWrongSideOfTheEntry_NameTheField(string side, int? entry, int stop, int take, string? field, string? message)
    {
        var entryJson = entry is null ? "" : $",\"entry_price\":{entry}";
        var signal = Validate($$"""{"external_id":"p","source":"s","symbol":"X","side":"{{side}}"{{entryJson}},"stop_loss":{{stop}},"take_profit":{{take}}}""", out var errors);
        if (field is null)
        {
            Assert.NotNull(signal);
            return;
        }
        Assert.Null(signal);
        Assert.Equal([message!], errors[field]);
        Assert.Single(errors);
    }

    [Fact]
    public void Timestamps_AreRfc3339UtcWithMilliseconds()
    {
        var json = JsonSerializer.Serialize(new Signal { ReceivedAt = new DateTimeOffset(2026, 11, 25, 17, 0, 0, 123, TimeSpan.FromHours(2)) }, ProtocolJson.Default.Signal);
        Assert.Contains("\"received_at\":\"2026-11-25T15:00:00.123Z\"", json, StringComparison.Ordinal);
    }
}
