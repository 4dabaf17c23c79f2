using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests;

[Trait(TestKinds.Name, TestKinds.Unit)]
public class ExponentialBackoffReconnectPolicyTests
{
    private static ReconnectContext Lost(int retries, int? close = null, DisconnectReason reason = DisconnectReason.ConnectionFailed) =>
        new(retries, TimeSpan.Zero, close is null ? reason : DisconnectReason.Closed, close);

    [Fact]
    public void Ceiling_DoublesFromThreeSecondsToThirty()
    {
        var policy = new ExponentialBackoffReconnectPolicy();
        var ceilings = Enumerable.Range(0, 7).Select(policy.Ceiling).Select(c => c.TotalSeconds);
        Assert.Equal([3, 6, 12, 24, 30, 30, 30], ceilings);
    }

    [Fact]
    public void NextRetryDelay_ManyRetries_StaysAtTheCapForever()
    {
        var policy = new ExponentialBackoffReconnectPolicy(random: () => 0.999999);
        var delay = policy.NextRetryDelay(Lost(int.MaxValue));
        Assert.NotNull(delay);
        Assert.InRange(delay.Value, TimeSpan.FromSeconds(29.9), TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData(0.0, 0, 0.0)]
    [InlineData(0.5, 0, 1.5)]
    [InlineData(0.5, 2, 6.0)]
    [InlineData(0.25, 5, 7.5)]
    public void NextRetryDelay_FullJitter_IsUniformBetweenZeroAndCeiling(double random, int retries, double expectedSeconds)
    {
        var policy = new ExponentialBackoffReconnectPolicy(random: () => random);
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), policy.NextRetryDelay(Lost(retries)));
    }

    [Fact]
    public void NextRetryDelay_DefaultRandom_StaysWithinCeiling()
    {
        var policy = new ExponentialBackoffReconnectPolicy();
        for (var retries = 0; retries < 10; retries++)
        {
            for (var i = 0; i < 50; i++)
            {
                var delay = policy.NextRetryDelay(Lost(retries))!.Value;
                Assert.InRange(delay, TimeSpan.Zero, policy.Ceiling(retries));
            }
        }
    }

    [Theory]
    [InlineData(CloseCodes.Normal)]
    [InlineData(CloseCodes.BinaryNotSupported)]
    [InlineData(CloseCodes.InvalidUtf8)]
    [InlineData(CloseCodes.MessageTooBig)]
    [InlineData(CloseCodes.TokenInvalid)]
    [InlineData(CloseCodes.TooManyBadFrames)]
    [InlineData(CloseCodes.UserDisabled)]
    [InlineData(CloseCodes.ConnectionLimit)]
    [InlineData(4999)]
    public void NextRetryDelay_CloseCodeSaysStop_ReturnsNull(int code)
    {
        var policy = new ExponentialBackoffReconnectPolicy(random: () => 0.5);
        Assert.Null(policy.NextRetryDelay(Lost(0, code)));
    }

    [Theory]
    [InlineData(CloseCodes.PolicyViolation)]
    [InlineData(CloseCodes.InternalError)]
    [InlineData(CloseCodes.TokenExpired)]
    [InlineData(CloseCodes.RateLimited)]
    [InlineData(CloseCodes.SlowConsumer)]
    [InlineData(4499)]
    public void NextRetryDelay_ReconnectableCloseCode_BacksOff(int code)
    {
        var policy = new ExponentialBackoffReconnectPolicy(random: () => 1);
        Assert.Equal(TimeSpan.FromSeconds(3), policy.NextRetryDelay(Lost(0, code)));
        Assert.Equal(TimeSpan.FromSeconds(12), policy.NextRetryDelay(Lost(2, code)));
    }

    [Fact]
    public void NextRetryDelay_GoingAway_ReconnectsAtOnceWithSmallJitter()
    {
        var policy = new ExponentialBackoffReconnectPolicy(random: () => 1);
        Assert.Equal(TimeSpan.FromSeconds(1), policy.NextRetryDelay(Lost(0, CloseCodes.GoingAway)));
        var zero = new ExponentialBackoffReconnectPolicy(random: () => 0);
        Assert.Equal(TimeSpan.Zero, zero.NextRetryDelay(Lost(0, CloseCodes.GoingAway)));
    }

    [Fact]
    public void NextRetryDelay_Overloaded_UsesTheLongestCeiling()
    {
        var policy = new ExponentialBackoffReconnectPolicy(random: () => 1);
        Assert.Equal(TimeSpan.FromSeconds(30), policy.NextRetryDelay(Lost(0, CloseCodes.TryAgainLater)));
    }

    [Theory]
    [InlineData(DisconnectReason.Unauthorized, true)]
    [InlineData(DisconnectReason.ConnectionFailed, false)]
    [InlineData(DisconnectReason.UpgradeRefused, false)]
    [InlineData(DisconnectReason.HeartbeatTimeout, false)]
    public void NextRetryDelay_ByReason(DisconnectReason reason, bool stops)
    {
        var policy = new ExponentialBackoffReconnectPolicy(random: () => 0.5);
        Assert.Equal(stops, policy.NextRetryDelay(Lost(1, reason: reason)) is null);
    }

    [Fact]
    public void Constructor_RejectsNonsense()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialBackoffReconnectPolicy(initialDelay: TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialBackoffReconnectPolicy(initialDelay: TimeSpan.FromSeconds(10), maxDelay: TimeSpan.FromSeconds(5)));
    }
}
