using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Connection;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ConnectionStatusTests
{
    [Fact]
    public void Set_AnnouncesEachChangeOnce_ButEveryReconnectAttempt()
    {
        var pieces = new ClientPieces(afterSeq: 4);
        var status = pieces.Status;
        status.Set(ConnectionState.Connecting);
        status.Set(ConnectionState.Connecting);
        status.Set(ConnectionState.Reconnecting, retryDelay: TimeSpan.FromSeconds(1));
        status.Set(ConnectionState.Reconnecting, retryDelay: TimeSpan.FromSeconds(2));
        status.Set(ConnectionState.Connected);

        Assert.Equal([ConnectionState.Connecting, ConnectionState.Reconnecting, ConnectionState.Reconnecting, ConnectionState.Connected],
            pieces.States.Select(s => s.State));
        Assert.Equal(ConnectionState.Reconnecting, pieces.States[^1].PreviousState);
        Assert.Equal(TimeSpan.FromSeconds(2), pieces.States[2].RetryDelay);
        Assert.All(pieces.States, s => Assert.Equal(4, s.LastSeq));
        Assert.Equal(ConnectionState.Connected, status.State);
    }

    [Fact]
    public void SetTier_AnnouncesOnlyChanges()
    {
        var pieces = new ClientPieces();
        var tiers = new List<Tier>();
        pieces.Events.TierChanged += (_, e) => tiers.Add(e.Tier);
        pieces.Status.SetTier(null);
        pieces.Status.SetTier(Tier.Starter);
        pieces.Status.SetTier(Tier.Starter);
        pieces.Status.SetTier(Tier.Professional);
        Assert.Equal([Tier.Starter, Tier.Professional], tiers);
        Assert.Equal(Tier.Professional, pieces.Status.Tier);
    }

    [Fact]
    public async Task MarkStarted_CompletesStartedOnce_AndAFailureAfterwardsChangesNothing()
    {
        var status = new ClientPieces().Status;
        Assert.False(status.HasStarted);
        Assert.True(status.MarkStarted());
        Assert.False(status.MarkStarted());
        status.FailStart(new SignalStreamException("late"));
        await status.Started;
        Assert.True(status.HasStarted);
    }
}
