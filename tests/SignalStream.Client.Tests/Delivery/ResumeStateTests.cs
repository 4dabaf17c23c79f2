using SignalStream.Client.Delivery;
using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Client.Tests.Delivery;

[Trait(TestKinds.Name, TestKinds.Unit)]
public class ResumeStateTests
{
    [Fact]
    public void TryAccept_IncreasingSeqs_AcceptsEachOnce()
    {
        var resume = new ResumeState(null);
        Assert.False(resume.HasPosition);
        Assert.True(resume.TryAccept(1));
        Assert.True(resume.TryAccept(2));
        Assert.True(resume.TryAccept(5)); // gaps are fine: invisible signals have seqs too
        Assert.Equal(5, resume.LastSeq);
    }

    [Fact]
    public void TryAccept_SeenOrOlderSeq_Drops()
    {
        var resume = new ResumeState(null);
        resume.TryAccept(7);
        Assert.False(resume.TryAccept(7));
        Assert.False(resume.TryAccept(3));
        Assert.Equal(7, resume.LastSeq);
    }

    [Fact]
    public void Constructor_WithAfterSeq_ResumesAfterIt()
    {
        var resume = new ResumeState(10);
        Assert.True(resume.HasPosition);
        Assert.False(resume.TryAccept(10));
        Assert.True(resume.TryAccept(11));
    }

    [Fact]
    public void Constructor_WithAfterSeqZero_AcceptsEverything()
    {
        var resume = new ResumeState(0);
        Assert.Equal(0, resume.LastSeq);
        Assert.True(resume.TryAccept(1));
    }

    [Fact]
    public void InitializeIfUnknown_OnlyTheFirstTime()
    {
        var resume = new ResumeState(null);
        Assert.True(resume.InitializeIfUnknown(42));
        Assert.False(resume.InitializeIfUnknown(50));
        Assert.Equal(42, resume.LastSeq);
        Assert.False(resume.TryAccept(42));
        Assert.True(resume.TryAccept(43));
    }

    [Fact]
    public void InitializeIfUnknown_AfterASignal_KeepsThePosition()
    {
        var resume = new ResumeState(null);
        resume.TryAccept(3);
        Assert.False(resume.InitializeIfUnknown(100));
        Assert.Equal(3, resume.LastSeq);
    }

    [Fact]
    public void ReplayOverlappingLive_DeliversEachSeqOnceInOrder()
    {
        // A replay page, a REST page and the live stream overlap; the consumer sees 1..9 once.
        var resume = new ResumeState(0);
        long[] arrivals = [1, 2, 3, 2, 3, 4, 5, 4, 6, 7, 7, 8, 9, 1];
        var delivered = arrivals.Where(resume.TryAccept).ToArray();
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9], delivered);
    }

    [Fact]
    public void TryRebase_TheSameHistory_KeepsThePosition_AndLearnsAnUnknownEpoch()
    {
        var resume = new ResumeState(5);
        Assert.False(resume.TryRebase("e1", 9));
        Assert.Equal("e1", resume.Epoch);
        Assert.False(resume.TryRebase("e1", 5));
        Assert.Equal(5, resume.LastSeq);
    }

    [Theory]
    [InlineData("e2", 9)] // another epoch
    [InlineData("e1", 4)] // the same epoch, but its history ends before our position
    [InlineData(null, 4)] // a server that does not say its epoch: the seq alone shows it
    public void TryRebase_AnotherHistory_StartsAgainFromItsBeginning(string? epoch, long lastSeq)
    {
        var resume = new ResumeState(5, "e1");
        Assert.True(resume.TryRebase(epoch, lastSeq));
        Assert.Equal(0, resume.LastSeq);
        Assert.Equal(epoch ?? "e1", resume.Epoch);
        Assert.True(resume.TryAccept(1));
    }
}
