using Microsoft.Extensions.Time.Testing;
using SignalStream.Client.Tests.Infrastructure;
using SignalStream.Client.Transport;

namespace SignalStream.Client.Tests.Transport;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class HeartbeatTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch.AddDays(1));
    private readonly FakeWebSocket _ws = new();
    private readonly TestLogger _log = new();

    private Heartbeat NewHeartbeat() => new(_ws, new Outbox(10, _log), _time, _log);

    [Theory]
    [InlineData(5_000, 20_000, 5_000)]
    [InlineData(null, 20_000, 20_000)]
    [InlineData(null, null, 30_000)]
    [InlineData(null, 0, 30_000)]
    public void IntervalFor_ConfiguredThenServerThenFallback(int? configuredMs, int? serverMs, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs),
            Heartbeat.IntervalFor(configuredMs is { } c ? TimeSpan.FromMilliseconds(c) : null, serverMs, TimeSpan.FromSeconds(30)));

    [Fact]
    public async Task RunAsync_PingsEveryInterval_AndKeepsALiveConnection()
    {
        var heartbeat = NewHeartbeat();
        using var cts = new CancellationTokenSource();
        var run = heartbeat.RunAsync(Interval, cts.Token);
        for (var i = 0; i < 4; i++)
        {
            _time.Advance(Interval);
            Assert.Contains("\"type\":\"ping\"", await _ws.NextSentAsync(), StringComparison.Ordinal);
            heartbeat.MarkReceived(); // the pong
        }
        await cts.CancelAsync();
        await run.WaitAsync(TestTimeouts.Default);
        Assert.False(heartbeat.TimedOut);
        Assert.False(_ws.Aborted);
    }

    [Fact]
    public async Task RunAsync_NothingForTwoIntervalsAfterAPing_AbortsTheConnection()
    {
        var heartbeat = NewHeartbeat();
        var run = heartbeat.RunAsync(Interval, CancellationToken.None);
        _time.Advance(Interval);
        await _ws.NextSentAsync();
        Assert.False(_ws.Aborted);

        _time.Advance(Interval);
        await run.WaitAsync(TestTimeouts.Default);
        Assert.True(heartbeat.TimedOut);
        Assert.True(_ws.Aborted);
        Assert.Single(_ws.Sent);
        Assert.Equal(1, _log.Count("HeartbeatTimeout"));
    }

    [Fact]
    public async Task RunAsync_FramesKeepArriving_NoTimeoutEvenWithoutPongs()
    {
        var heartbeat = NewHeartbeat();
        using var cts = new CancellationTokenSource();
        var run = heartbeat.RunAsync(Interval, cts.Token);
        for (var i = 0; i < 3; i++)
        {
            _time.Advance(Interval / 2);
            heartbeat.MarkReceived(); // a signal, say
            _time.Advance(Interval / 2);
            await _ws.NextSentAsync();
        }
        await cts.CancelAsync();
        await run.WaitAsync(TestTimeouts.Default);
        Assert.False(_ws.Aborted);
    }

    [Fact]
    public async Task RunAsync_DeadOnlyAfterTwoFullIntervalsOfSilence()
    {
        var heartbeat = NewHeartbeat();
        var run = heartbeat.RunAsync(Interval, CancellationToken.None);
        _time.Advance(Interval / 2);
        heartbeat.MarkReceived(); // the last frame ever, at 5 s
        _time.Advance(Interval / 2);
        await _ws.NextSentAsync(); // 10 s: ping
        _time.Advance(Interval);
        await _ws.NextSentAsync(); // 20 s: 15 s of silence is not yet two intervals: ping again
        Assert.False(_ws.Aborted);

        _time.Advance(Interval); // 30 s: 25 s of silence, pinged meanwhile: dead
        await run.WaitAsync(TestTimeouts.Default);
        Assert.True(heartbeat.TimedOut);
        Assert.Equal(2, _ws.Sent.Count);
    }
}
