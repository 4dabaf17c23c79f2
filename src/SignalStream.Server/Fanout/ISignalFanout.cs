namespace SignalStream.Server.Fanout;

/// <summary>
/// Where <see cref="SignalFeed"/> hands this node's signals, and what it promises the receiver
/// (held by tests/…/Fanout/SignalFeedSpecTests): one call at a time, each signal once, in seq
/// order with no gap, except past seqs that history no longer holds (trimmed, or never stored).
/// <see cref="ConnectionHub"/> is the receiver; the seam is where the feed's spec watches.
/// </summary>
public interface ISignalFanout
{
    /// <summary>Nothing at or below <paramref name="lastSeq"/> will follow.</summary>
    void StartAt(long lastSeq);

    /// <summary>The next signal in seq order.</summary>
    void Broadcast(OutboundFrame frame);
}
