using System.Diagnostics;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Transport;

/// <summary>
/// SECURITY.md, "half-open socket (pongs stop)": a client that answers no protocol ping is cut off
/// after two heartbeat intervals, and its per-user slot (one, here) is free again. The interval is
/// 2 s: a client that does answer has that long to, however busy the machine; the bounds on how
/// long a silent one lasts leave room for a slow sweep, while a server that never cuts it fails.
/// </summary>
[Trait("Kind", "Security")]
public sealed class KeepaliveTests(KeepaliveTests.Fixture fixture) : IClassFixture<KeepaliveTests.Fixture>
{
    public sealed class Fixture() : ServerFixture($"--WebSockets:HeartbeatInterval={Interval:c}", "--Limits:ConnectionsPerUser=1");

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Client_ThatNeverAnswersPings_IsDisconnectedWithinTwoIntervals_AndItsSlotIsFreed()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        await using var silent = await Server.ConnectRawAsync(bearer: user.Token);
        Assert.Equal(101, silent.Status);
        var opened = Stopwatch.StartNew();

        // It reads everything (the welcome, the pings) but answers nothing.
        var pings = 0;
        RawFrame? frame;
        while ((frame = await silent.ReceiveFrameAsync()) is not null)
            if (frame.Opcode == RawFrame.Ping) pings++;
        var lasted = opened.Elapsed;
        Assert.True(pings >= 1, "the server pinged it");
        Assert.InRange(lasted, Interval, 5 * Interval); // two intervals, and a busy machine's slack

        await Eventually.TrueAsync(() => Server.Get<ConnectionHub>().ConnectionsOf(user.Id) == 0, "the slot is freed");
        var (next, _) = await Server.ConnectWelcomedAsync(user.Token);
        await next.DisposeAsync();
    }

    [Fact]
    public async Task Client_WhosePongsStop_IsDisconnected_WhileOneThatAnswersStays()
    {
        var quitter = await Server.CreateUserAsync(Tier.Starter);
        var live = await Server.CreateUserAsync(Tier.Starter);
        await using var stopping = await Server.ConnectRawAsync(bearer: quitter.Token);
        await using var answering = await Server.ConnectRawAsync(bearer: live.Token);
        stopping.AnswerPings = true;
        answering.AnswerPings = true;

        // Both answer for well over two intervals: both stay.
        var until = DateTime.UtcNow + 2.5 * Interval;
        await Task.WhenAll(ReadWhileAsync(stopping, () => DateTime.UtcNow < until), ReadWhileAsync(answering, () => DateTime.UtcNow < until));

        // Then one goes quiet, like a peer whose network vanished; the other keeps answering meanwhile.
        stopping.AnswerPings = false;
        var quiet = Stopwatch.StartNew();
        var cutOff = stopping.WaitForEndOfStreamAsync(RawWebSocket.DefaultTimeout);
        var readingLive = ReadWhileAsync(answering, () => !cutOff.IsCompleted);
        Assert.True(await cutOff, "the silent peer is cut off");
        Assert.InRange(quiet.Elapsed, Interval / 4, 5 * Interval);
        await readingLive;

        // The one that kept answering is still there, and still gets signals.
        answering.AnswerPings = true;
        var seq = await Server.PublishAsync();
        string text;
        do text = await answering.ExpectTextAsync(); while (!text.Contains("\"signal\"", StringComparison.Ordinal));
        Assert.Contains($"\"seq\":{seq}", text, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => Server.Get<ConnectionHub>().ConnectionsOf(quitter.Id) == 0, "the silent peer's slot is freed");
    }

    /// <summary>
    /// Reads (answering pings if set) while <paramref name="keepReading"/> holds, checked at every frame (the
    /// server pings every interval); fails if the server closes meanwhile.
    /// </summary>
    private static async Task ReadWhileAsync(RawWebSocket socket, Func<bool> keepReading)
    {
        while (keepReading())
        {
            var frame = await socket.ReceiveFrameAsync();
            Assert.NotNull(frame);
            Assert.NotEqual(RawFrame.Close, frame.Opcode);
        }
    }
}
