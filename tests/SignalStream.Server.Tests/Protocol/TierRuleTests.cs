using System.Text.Json;
using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Protocol;

[Trait("Kind", "Unit")]
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
