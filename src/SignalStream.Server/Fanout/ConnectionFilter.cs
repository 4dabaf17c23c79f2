using System.Collections.Frozen;
using SignalStream.Protocol;

namespace SignalStream.Server.Fanout;

/// <summary>What one connection may receive. Immutable: a change swaps the whole object.</summary>
public sealed record ConnectionFilter(Tier Tier, FrozenSet<string>? Symbols)
{
    public bool Allows(OutboundFrame frame) =>
        TierRule.CanSee(Tier, frame.MinTier) && (Symbols is null || frame.Symbol is null || Symbols.Contains(frame.Symbol));

    public static FrozenSet<string>? ToSymbolSet(IEnumerable<string>? symbols)
    {
        var set = symbols?.Select(s => s.Trim().ToUpperInvariant()).Where(s => s.Length > 0).ToFrozenSet(StringComparer.Ordinal);
        return set is { Count: > 0 } ? set : null;
    }
}
