using SignalStream.Protocol;

namespace SignalStream.Client;

/// <summary>The user's tier changed (from <c>welcome</c> or <c>tier_changed</c>).</summary>
public sealed class TierChangedEventArgs(Tier tier) : EventArgs
{
    /// <summary>The tier the stream follows from now on.</summary>
    public Tier Tier { get; } = tier;
}
