using System.Diagnostics;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Transport;

/// <summary>
/// SECURITY.md, "half-open socket (pongs stop)": with a 1 s heartbeat, a client that answers no
/// protocol ping is cut off after two intervals, and its per-user slot (one, here) is free again.
/// </summary>
[Trait("Kind", "Security")]
public sealed class KeepaliveTests(KeepaliveTests.Fixture fixture) : IClassFixture<KeepaliveTests.Fixture>
{
    public sealed class Fixture() : ServerFixture("--WebSockets:HeartbeatInterval=00:00:01", "--Limits:ConnectionsPerUser=1");

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
        while ((frame = await silent.ReceiveFrameAsync(TimeSpan.FromSeconds(5))) is not null)
            if (frame.Opcode == RawFrame.Ping) pings++;
        var lasted = opened.Elapsed;
        Assert.True(pings >= 1, "the server pinged it");
        Assert.InRange(lasted, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3.5));

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
        var until = DateTime.UtcNow.AddSeconds(2.5);
        await Task.WhenAll(ReadUntilAsync(stopping, until), ReadUntilAsync(answering, until));

        // Then one goes quiet, like a peer whose network vanished; the other keeps answering meanwhile.
        stopping.AnswerPings = false;
        var quiet = Stopwatch.StartNew();
        var readingLive = ReadUntilAsync(answering, DateTime.UtcNow.AddSeconds(3.5));
        Assert.True(await stopping.WaitForEndOfStreamAsync(TimeSpan.FromSeconds(5)), "the silent peer is cut off");
        Assert.InRange(quiet.Elapsed, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(3.5));
        await readingLive;

        // The one that kept answering is still there, and still gets signals.
        answering.AnswerPings = true;
        var seq = await Server.PublishAsync();
        string text;
        do text = await answering.ExpectTextAsync(); while (!text.Contains("\"signal\"", StringComparison.Ordinal));
        Assert.Contains($"\"seq\":{seq}", text, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => Server.Get<ConnectionHub>().ConnectionsOf(quitter.Id) == 0, "the silent peer's slot is freed");
    }

    /// <summary>Reads (answering pings if set) until <paramref name="until"/>; fails if the server closes first.</summary>
    private static async Task ReadUntilAsync(RawWebSocket socket, DateTime until)
    {
        while (DateTime.UtcNow < until)
        {
            try
            {
                var frame = await socket.ReceiveFrameAsync(until - DateTime.UtcNow);
                Assert.NotNull(frame);
                Assert.NotEqual(RawFrame.Close, frame.Opcode);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
