namespace SignalStream.Protocol;

/// <summary>Subscription tiers, lowest to highest. The numeric order is the visibility order.</summary>
public enum Tier
{
    /// <summary>Entry tier: sees only signals with <c>min_tier</c> STARTER.</summary>
    Starter = 0,
    /// <summary>Sees premium signals.</summary>
    Professional = 1,
    /// <summary>Sees everything.</summary>
    Institutional = 2,
}

/// <summary>The one visibility rule of the protocol, and the wire names of tiers.</summary>
public static class TierRule
{
    /// <summary>A user sees a signal when the user's tier is at or above the signal's minimum tier.</summary>
    public static bool CanSee(Tier userTier, Tier signalMinTier) => userTier >= signalMinTier;

    /// <summary><c>premium: true</c> is shorthand for PROFESSIONAL; when both are given the higher one applies.</summary>
    public static Tier EffectiveMinTier(bool premium, Tier? minTier)
    {
        var declared = minTier ?? Tier.Starter;
        return premium && declared < Tier.Professional ? Tier.Professional : declared;
    }

    /// <summary>Whether a signal of this minimum tier counts as premium.</summary>
    public static bool IsPremium(Tier minTier) => minTier >= Tier.Professional;

    /// <summary>The wire name: STARTER, PROFESSIONAL or INSTITUTIONAL.</summary>
    public static string ToWire(this Tier tier) => tier switch
    {
        Tier.Starter => "STARTER",
        Tier.Professional => "PROFESSIONAL",
        Tier.Institutional => "INSTITUTIONAL",
        _ => throw new ArgumentOutOfRangeException(nameof(tier)),
    };

    /// <summary>Parses a wire name (case-insensitive); false for anything else, numbers included.</summary>
    public static bool TryParse(string? value, out Tier tier)
    {
        switch (value?.ToUpperInvariant())
        {
            case "STARTER": tier = Tier.Starter; return true;
            case "PROFESSIONAL": tier = Tier.Professional; return true;
            case "INSTITUTIONAL": tier = Tier.Institutional; return true;
            default: tier = Tier.Starter; return false;
        }
    }
}
