using SignalStream.Client.Internal;

namespace SignalStream.Client.Tests.Unit;

public class SequenceTrackerTests
{
    [Fact]
    public void TryAccept_IncreasingSeqs_AcceptsEachOnce()
    {
        var tracker = new SequenceTracker(null);
        Assert.False(tracker.HasPosition);
        Assert.True(tracker.TryAccept(1));
        Assert.True(tracker.TryAccept(2));
        Assert.True(tracker.TryAccept(5)); // gaps are fine: invisible signals have seqs too
        Assert.Equal(5, tracker.LastSeq);
    }

    [Fact]
    public void TryAccept_SeenOrOlderSeq_Drops()
    {
        var tracker = new SequenceTracker(null);
        tracker.TryAccept(7);
        Assert.False(tracker.TryAccept(7));
        Assert.False(tracker.TryAccept(3));
        Assert.Equal(7, tracker.LastSeq);
    }

    [Fact]
    public void Constructor_WithAfterSeq_ResumesAfterIt()
    {
        var tracker = new SequenceTracker(10);
        Assert.True(tracker.HasPosition);
        Assert.False(tracker.TryAccept(10));
        Assert.True(tracker.TryAccept(11));
    }

    [Fact]
    public void Constructor_WithAfterSeqZero_AcceptsEverything()
    {
        var tracker = new SequenceTracker(0);
        Assert.Equal(0, tracker.LastSeq);
        Assert.True(tracker.TryAccept(1));
    }

    [Fact]
    public void InitializeIfUnknown_OnlyTheFirstTime()
    {
        var tracker = new SequenceTracker(null);
        Assert.True(tracker.InitializeIfUnknown(42));
        Assert.False(tracker.InitializeIfUnknown(50));
        Assert.Equal(42, tracker.LastSeq);
        Assert.False(tracker.TryAccept(42));
        Assert.True(tracker.TryAccept(43));
    }

    [Fact]
    public void InitializeIfUnknown_AfterASignal_KeepsThePosition()
    {
        var tracker = new SequenceTracker(null);
        tracker.TryAccept(3);
        Assert.False(tracker.InitializeIfUnknown(100));
        Assert.Equal(3, tracker.LastSeq);
    }

    [Fact]
    public void ReplayOverlappingLive_DeliversEachSeqOnceInOrder()
    {
        // A replay page, a REST page and the live stream overlap; the consumer sees 1..9 once.
        var tracker = new SequenceTracker(0);
        long[] arrivals = [1, 2, 3, 2, 3, 4, 5, 4, 6, 7, 7, 8, 9, 1];
        var delivered = arrivals.Where(tracker.TryAccept).ToArray();
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9], delivered);
    }
}
