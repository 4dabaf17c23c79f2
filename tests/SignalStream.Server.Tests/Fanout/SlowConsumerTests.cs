using System.Diagnostics;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Fanout;

/// <summary>
/// SECURITY.md, "slow consumer" and "one send fails": a client that stops reading overflows its
/// own bounded queue and is closed 4004 with what it did get being a gap-free prefix; a client
/// that vanishes mid-send is closed alone. Everyone else receives every signal.
/// </summary>
[Trait("Kind", "Security")]
public sealed class SlowConsumerTests(SlowConsumerTests.Fixture fixture, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<SlowConsumerTests.Fixture>
{
    public sealed class Fixture() : ServerFixture("--WebSockets:OutboundQueueCapacity=8", "--Limits:IngestPerSecond=100000");

    private static readonly string Notes = new('n', 4000);

    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Client_ThatStopsReading_IsClosed4004_WhileAReaderGetsEverySignal()
    {
        var slowUser = await Server.CreateUserAsync(Tier.Starter);
        var fastUser = await Server.CreateUserAsync(Tier.Starter);
        var (slow, _) = await Server.ConnectWelcomedAsync(slowUser.Token);
        var (fast, _) = await Server.ConnectWelcomedAsync(fastUser.Token);
        await using var _s = slow;
        await using var _f = fast;
        var hub = Server.Get<ConnectionHub>();
        var slowConnection = hub.Snapshot().Single(c => c.UserId == slowUser.Id);

        // The reader reads all along; the slow one reads nothing until publishing is over.
        var fastReceived = new List<long>();
        using var stopReading = new CancellationTokenSource();
        var reading = Task.Run(async () =>
        {
            while (!stopReading.IsCancellationRequested)
            {
                var frame = await fast.ReceiveAsync(TimeSpan.FromSeconds(30));
                if (frame?.Type == MessageTypes.Signal) lock (fastReceived) fastReceived.Add(frame.Seq!.Value);
            }
        });

        var published = new List<long>();
        var watch = Stopwatch.StartNew();
        while (!slowConnection.IsClosing && published.Count < 3000)
            published.Add(await Server.PublishAsync(notes: Notes));
        for (var i = 0; i < 5; i++) published.Add(await Server.PublishAsync(notes: Notes)); // and some after the close
        output.WriteLine($"closed after {published.Count - 5} signals of 4 KB in {watch.ElapsedMilliseconds} ms");
        Assert.Equal(CloseCodes.SlowConsumer, slowConnection.CloseCode);

        // Now the slow one reads: a gap-free prefix of what was published, then 4004.
        Assert.Equal(CloseCodes.SlowConsumer, await slow.ExpectCloseAsync(TimeSpan.FromSeconds(30)));
        var got = slow.Received.Where(f => f.Type == MessageTypes.Signal).Select(f => f.Seq!.Value).ToList();
        Assert.Equal(published.Take(got.Count), got);
        Assert.True(got.Count < published.Count);

        await Eventually.TrueAsync(() => { lock (fastReceived) return fastReceived.Count == published.Count; }, "the reader got every signal", TimeSpan.FromSeconds(15));
        stopReading.Cancel();
        lock (fastReceived) Assert.Equal(published, fastReceived);
        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, fast.Inner.State);
    }

    [Fact]
    public async Task Send_ThatFails_ClosesOnlyThatSocket_EveryoneElseGetsEverySignal()
    {
        var users = new List<TestUser>();
        for (var i = 0; i < 3; i++) users.Add(await Server.CreateUserAsync(Tier.Starter));
        var readers = new List<TestSocket>();
        foreach (var user in users) readers.Add((await Server.ConnectWelcomedAsync(user.Token)).Socket);
        var victimUser = await Server.CreateUserAsync(Tier.Starter);
        var victim = await Server.ConnectRawAsync(bearer: victimUser.Token);
        var hub = Server.Get<ConnectionHub>();
        var victimConnection = hub.Snapshot().Single(c => c.UserId == victimUser.Id);
        try
        {
            var published = new List<long>();
            for (var i = 0; i < 20; i++)
            {
                published.Add(await Server.PublishAsync(notes: Notes));
                if (i == 5) victim.Reset(); // the peer is gone: its next writes fail
            }
            await Eventually.TrueAsync(() => hub.ConnectionsOf(victimUser.Id) == 0, "the failed socket is closed and removed");
            foreach (var reader in readers)
                Assert.Equal(published, (await reader.ReceiveSignalsAsync(published.Count)).Select(s => s.Seq!.Value));
            Assert.NotEqual(0, victimConnection.CloseCode);
        }
        finally
        {
            foreach (var reader in readers) await reader.DisposeAsync();
            await victim.DisposeAsync();
        }
    }
}
