using System.Text;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Tests.Fanout;

[Trait("Kind", "Unit")]
public sealed class StreamConnectionTests
{
    private static readonly ServerMetrics Metrics = new();

    private static OutboundFrame Frame(long seq, Tier minTier = Tier.Starter, string symbol = "BTC-USD") =>
        new(Encoding.UTF8.GetBytes($"{{\"seq\":{seq}}}"), seq, minTier, symbol);

    private static StreamConnection Connection(Tier tier = Tier.Starter, int queue = 16, int pending = 16, string[]? symbols = null) =>
        new("user", new ConnectionFilter(tier, ConnectionFilter.ToSymbolSet(symbols)), DateTimeOffset.UtcNow.AddHours(1), queue, pending, Metrics);

    [Fact]
    public void Offer_WhileHeld_IsQueuedOnlyAfterGoLive_AndNothingAtOrBelowTheReplayedSeq()
    {
        var connection = Connection();
        connection.Offer(Frame(5));
        connection.Offer(Frame(6));
        connection.Offer(Frame(7));
        Assert.Equal(0, connection.QueueDepth);

        connection.GoLive(sentUpTo: 6);
        Assert.Equal(1, connection.QueueDepth); // only 7

        connection.Offer(Frame(7)); // a repeat never queues twice
        connection.Offer(Frame(8));
        Assert.Equal(2, connection.QueueDepth);
    }

    [Fact]
    public async Task SendReplay_NothingAtOrBelowWhatTheConnectionAlreadyQueued()
    {
        var connection = Connection();
        connection.GoLive(0);
        connection.Offer(Frame(4));
        connection.Offer(Frame(5));

        connection.HoldLive(); // a resume on a socket that has been live
        Assert.False(await connection.SendReplayAsync(Frame(3), default));
        Assert.False(await connection.SendReplayAsync(Frame(5), default));
        Assert.True(await connection.SendReplayAsync(Frame(6), default));
        connection.GoLive(sentUpTo: 6);
        Assert.Equal(3, connection.QueueDepth); // 4 and 5 live, 6 replayed: each once
    }

    [Fact]
    public void Offer_FilteredByTierAndSymbol()
    {
        var connection = Connection(Tier.Professional, symbols: ["eth-usd"]);
        connection.GoLive(0);
        connection.Offer(Frame(1, Tier.Institutional, "ETH-USD"));
        connection.Offer(Frame(2, Tier.Professional, "BTC-USD"));
        connection.Offer(Frame(3, Tier.Professional, "ETH-USD"));
        Assert.Equal(1, connection.QueueDepth);
    }

    [Fact]
    public void Offer_WhenQueueIsFull_ClosesWithSlowConsumer_WithoutBlocking()
    {
        var connection = Connection(queue: 2);
        connection.GoLive(0);
        for (var seq = 1; seq <= 3; seq++) connection.Offer(Frame(seq));
        Assert.Equal(CloseCodes.SlowConsumer, connection.CloseCode);
    }

    [Fact]
    public void Offer_WhenReplayBufferOverflows_ClosesWithSlowConsumer()
    {
        var connection = Connection(pending: 2);
        for (var seq = 1; seq <= 3; seq++) connection.Offer(Frame(seq));
        Assert.Equal(CloseCodes.SlowConsumer, connection.CloseCode);
    }

    [Fact]
    public void RequestClose_FirstCodeWins()
    {
        var connection = Connection();
        connection.RequestClose(CloseCodes.UserDisabled, "disabled");
        connection.RequestClose(CloseCodes.Normal, "");
        Assert.Equal(CloseCodes.UserDisabled, connection.CloseCode);
    }

    [Fact]
    public void ApplyUser_Downgrade_SwapsFilterAndQueuesTierChanged_DisableCloses4503()
    {
        var connection = Connection(Tier.Institutional);
        connection.GoLive(0);
        Assert.True(connection.ApplyUser(new UserRecord("user", "u", "", Tier.Starter, false, 2)));
        Assert.Equal(Tier.Starter, connection.Tier);
        Assert.Equal(1, connection.QueueDepth); // tier_changed
        connection.Offer(Frame(1, Tier.Professional));
        Assert.Equal(1, connection.QueueDepth);
        Assert.False(connection.ApplyUser(new UserRecord("user", "u", "", Tier.Starter, false, 3)));
        connection.ApplyUser(new UserRecord("user", "u", "", Tier.Starter, true, 4));
        Assert.Equal(CloseCodes.UserDisabled, connection.CloseCode);
    }

    [Fact]
    public void CheckToken_NoticeOnceBeforeExpiry_Closes4001AtExpiry()
    {
        var expiresAt = DateTimeOffset.UtcNow.AddMinutes(1);
        var connection = new StreamConnection("user", new ConnectionFilter(Tier.Starter, null), expiresAt, 16, 16, Metrics);
        connection.CheckToken(expiresAt.AddSeconds(-90), TimeSpan.FromSeconds(60));
        Assert.Equal(0, connection.QueueDepth);
        connection.CheckToken(expiresAt.AddSeconds(-30), TimeSpan.FromSeconds(60));
        connection.CheckToken(expiresAt.AddSeconds(-20), TimeSpan.FromSeconds(60));
        Assert.Equal(1, connection.QueueDepth);
        connection.CheckToken(expiresAt, TimeSpan.FromSeconds(60));
        Assert.Equal(CloseCodes.TokenExpired, connection.CloseCode);
    }

    [Fact]
    public void ForSignal_WrapsStoredJsonWithoutReserializing()
    {
        var frame = OutboundFrame.ForSignal(new StoredSignal(42, "id", Tier.Professional, "BTC-USD", "{\"id\":\"id\",\"seq\":42}"));
        Assert.Equal("{\"type\":\"signal\",\"seq\":42,\"signal\":{\"id\":\"id\",\"seq\":42}}", Encoding.UTF8.GetString(frame.Utf8.Span));
        Assert.Equal(Tier.Professional, frame.MinTier);
    }
}
