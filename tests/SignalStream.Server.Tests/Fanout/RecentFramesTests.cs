using System.Text;
using SignalStream.Server.Fanout;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Tests.Fanout;

[Trait("Kind", "Unit")]
public sealed class RecentFramesTests
{
    private static OutboundFrame Frame(long seq) => new(Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}"), seq);

    private static RecentFrames Holding(int capacity, long firstSeq, long lastSeq)
    {
        var ring = new RecentFrames(capacity);
        for (var seq = firstSeq; seq <= lastSeq; seq++) ring.Add(Frame(seq));
        return ring;
    }

    private static (bool Covered, long[] Seqs, long LastSeq) CopyAfter(RecentFrames ring, long afterSeq)
    {
        var into = new List<OutboundFrame>();
        var covered = ring.TryCopyAfter(afterSeq, into, out var lastSeq);
        return (covered, [.. into.Select(f => f.Seq)], lastSeq);
    }

    [Fact]
    public void Empty_CoversNothing()
    {
        Assert.False(CopyAfter(new RecentFrames(4), 0).Covered);
        Assert.False(CopyAfter(new RecentFrames(4), 100).Covered);
    }

    [Fact]
    public void WrapsAround_KeepingTheNewestInSeqOrder()
    {
        var ring = Holding(capacity: 4, firstSeq: 1, lastSeq: 10); // holds 7..10, wrapped twice

        var (covered, seqs, lastSeq) = CopyAfter(ring, 6);
        Assert.True(covered);
        Assert.Equal([7L, 8, 9, 10], seqs);
        Assert.Equal(10, lastSeq);
        Assert.Equal([9L, 10], CopyAfter(ring, 8).Seqs);
    }

    [Fact]
    public void CopiedFrames_AreTheSharedInstances()
    {
        var ring = new RecentFrames(4);
        var frame = Frame(1);
        ring.Add(frame);
        var into = new List<OutboundFrame>();
        Assert.True(ring.TryCopyAfter(0, into, out _));
        Assert.Same(frame, Assert.Single(into));
    }

    [Fact]
    public void Gap_ResetsTheRing()
    {
        var ring = Holding(capacity: 8, firstSeq: 1, lastSeq: 5);
        ring.Add(Frame(7)); // 6 never came: the ring restarts at 7

        Assert.False(CopyAfter(ring, 4).Covered);
        Assert.False(CopyAfter(ring, 5).Covered); // 6 would be missing
        var (covered, seqs, lastSeq) = CopyAfter(ring, 6);
        Assert.True(covered);
        Assert.Equal([7L], seqs);
        Assert.Equal(7, lastSeq);
    }

    [Fact]
    public void Repeat_ResetsTheRing()
    {
        var ring = Holding(capacity: 8, firstSeq: 1, lastSeq: 5);
        ring.Add(Frame(5));
        Assert.False(CopyAfter(ring, 3).Covered);
        Assert.Equal([5L], CopyAfter(ring, 4).Seqs);
    }

    [Fact]
    public void Reset_ForgetsEverything()
    {
        var ring = Holding(capacity: 8, firstSeq: 1, lastSeq: 5);
        ring.Reset();
        Assert.False(CopyAfter(ring, 5).Covered);
        ring.Add(Frame(9));
        Assert.Equal([9L], CopyAfter(ring, 8).Seqs);
    }

    [Fact]
    public void Coverage_Edges()
    {
        var ring = Holding(capacity: 4, firstSeq: 1, lastSeq: 10); // holds 7..10

        var justBeforeFirst = CopyAfter(ring, 6);
        Assert.True(justBeforeFirst.Covered);
        Assert.Equal([7L, 8, 9, 10], justBeforeFirst.Seqs);

        var beforeFirst = CopyAfter(ring, 5); // 6 is no longer held
        Assert.False(beforeFirst.Covered);
        Assert.Empty(beforeFirst.Seqs);

        var atLast = CopyAfter(ring, 10);
        Assert.True(atLast.Covered);
        Assert.Empty(atLast.Seqs);
        Assert.Equal(10, atLast.LastSeq);

        var beyondLast = CopyAfter(ring, 42);
        Assert.True(beyondLast.Covered);
        Assert.Empty(beyondLast.Seqs);
        Assert.Equal(10, beyondLast.LastSeq);
    }

    [Fact]
    public void TryCopyAfter_AppendsToWhatTheListHolds()
    {
        var ring = Holding(capacity: 4, firstSeq: 1, lastSeq: 3);
        var into = new List<OutboundFrame> { Frame(99) };
        Assert.True(ring.TryCopyAfter(1, into, out _));
        Assert.Equal([99L, 2, 3], into.Select(f => f.Seq));
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(100_000, RecentFrames.MaxCapacity)]
    public void Capacity_NeverExceedsTheHistoryLimit(int historyLimit, int expected) =>
        Assert.Equal(expected, RecentFrames.For(new StorageOptions { HistoryLimit = historyLimit }).Capacity);
}
