using SignalStream.Client.Connection;
using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Client.Tests.Connection;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class ConnectionOutcomeTests
{
    [Theory]
    [InlineData(401, DisconnectReason.Unauthorized)]
    [InlineData(403, DisconnectReason.Unauthorized)]
    [InlineData(0, DisconnectReason.ConnectionFailed)]
    [InlineData(101, DisconnectReason.ConnectionFailed)]
    [InlineData(429, DisconnectReason.ConnectionFailed)]
    [InlineData(400, DisconnectReason.UpgradeRefused)]
    [InlineData(502, DisconnectReason.UpgradeRefused)]
    [InlineData(503, DisconnectReason.UpgradeRefused)]
    public void UpgradeFailed_ReadsTheStatus(int status, DisconnectReason reason)
    {
        var outcome = ConnectionOutcome.UpgradeFailed(status, new IOException(), tokenWasCached: false);
        Assert.Equal(reason, outcome.Reason);
        Assert.False(outcome.Welcomed);
        Assert.Equal(status == 0 ? null : status, outcome.HttpStatus);
    }

    [Theory]
    [InlineData(401, true, true)]
    [InlineData(401, false, false)]
    [InlineData(403, true, false)]
    public void UpgradeFailed_OnlyA401ToACachedTokenMayBeStale(int status, bool cached, bool stale) =>
        Assert.Equal(stale, ConnectionOutcome.UpgradeFailed(status, new IOException(), cached).StaleToken);

    [Fact]
    public void ToContext_CarriesEverythingThePolicyDecidesFrom()
    {
        var error = new IOException("x");
        var context = new ConnectionOutcome(DisconnectReason.Closed, true, CloseStatus: 1011, CloseDescription: "boom", Exception: error)
            .ToContext(2, TimeSpan.FromSeconds(9));
        Assert.Equal(new ReconnectContext(2, TimeSpan.FromSeconds(9), DisconnectReason.Closed, 1011, "boom", null, error), context);
    }
}
