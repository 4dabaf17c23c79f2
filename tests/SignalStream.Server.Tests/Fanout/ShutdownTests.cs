using System.Diagnostics;
using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Fanout;

/// <summary>
/// SECURITY.md, "graceful shutdown (SIGTERM)": close 1001 to all, drain first, exit within seconds,
/// nothing lost after resume; and "a node killed (kill -9)": on one node, the restarted node
/// resumes every client with no gap and no duplicate.
/// </summary>
[Trait("Kind", "Security")]
public sealed class ShutdownTests
{
    [Fact]
    public async Task Stop_DeliversWhatWasQueuedThenCloses1001_AndExitsPromptly_AndAResumeFindsNothingLost()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N"));
        var server = await TestServer.StartAsync(dataDirectory, []);
        var users = new[] { await server.CreateUserAsync(Tier.Starter), await server.CreateUserAsync(Tier.Institutional) };
        var sockets = new List<TestSocket>();
        foreach (var user in users) sockets.Add((await server.ConnectWelcomedAsync(user.Token)).Socket);
        try
        {
            // Published just before the stop: queued, not yet read by anyone.
            var published = new List<(long Seq, Tier MinTier)>();
            for (var i = 0; i < 30; i++)
            {
                var tier = i % 3 == 0 ? Tier.Institutional : Tier.Starter;
                published.Add((await server.PublishAsync(minTier: tier), tier));
            }

            var watch = Stopwatch.StartNew();
            var stopping = server.StopAsync();
            for (var i = 0; i < users.Length; i++)
            {
                Assert.Equal(CloseCodes.GoingAway, await sockets[i].ExpectCloseAsync());
                var expected = published.Where(p => TierRule.CanSee(users[i].Tier, p.MinTier)).Select(p => p.Seq);
                Assert.Equal(expected, sockets[i].Received.Where(f => f.Type == MessageTypes.Signal).Select(f => f.Seq!.Value));
                await sockets[i].Inner.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable, "", CancellationToken.None);
            }
            await stopping;
            // Sooner than the 5 s a client that never takes its close is given: nobody was waited out.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"stopped in {watch.Elapsed}");

            // Started again on the same storage: a resume from the last seq seen replays nothing,
            // and from before the stop replays exactly what was visible.
            await using var restarted = await TestServer.StartAsync(dataDirectory, []);
            var token = await restarted.LoginAsync(users[0].Username);
            var (resumed, _) = await restarted.ConnectWelcomedAsync(token, $"after_seq={published[^1].Seq}");
            await using var _r = resumed;
            Assert.Equal(0, (await resumed.ExpectAsync(MessageTypes.ReplayComplete)).Count);
            var (fromStart, _) = await restarted.ConnectWelcomedAsync(token, $"after_seq={published[0].Seq - 1}");
            await using var _f = fromStart;
            var complete = await fromStart.ExpectAsync(MessageTypes.ReplayComplete);
            Assert.Equal(published.Count(p => p.MinTier == Tier.Starter), complete.Count);
        }
        finally
        {
            foreach (var socket in sockets) await socket.DisposeAsync();
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Stop_WithClientsThatNeverAnswerTheClose_StillExitsWithinTheCloseTimeout()
    {
        var server = await TestServer.StartAsync();
        var user = await server.CreateUserAsync(Tier.Starter);
        var mute = new List<RawWebSocket>();
        try
        {
            for (var i = 0; i < 3; i++) mute.Add(await server.ConnectRawAsync(bearer: user.Token));
            var seq = await server.PublishAsync();
            var watch = Stopwatch.StartNew();
            var stopping = server.StopAsync();
            foreach (var socket in mute)
            {
                Assert.Equal(CloseCodes.GoingAway, await socket.ExpectCloseAsync());
                Assert.Contains(socket.Texts, t => t.Contains($"\"seq\":{seq},", StringComparison.Ordinal));
                // ...and never answers it.
            }
            await stopping;
            // Each is aborted after its 5 s: sooner than the host's 10 s shutdown timeout, which would end it anyway.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"stopped in {watch.Elapsed}");
        }
        finally
        {
            foreach (var socket in mute) await socket.DisposeAsync();
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Kill9_ThenRestart_ClientsResumeWithNoGapAndNoDuplicate()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N"));
        try
        {
            List<long> acknowledged = [];
            long lastSeen;
            string username;
            await using (var node = await ChildServer.StartAsync(0, dataDirectory))
            {
                var user = await node.CreateUserAsync(Tier.Starter);
                username = user.Username;
                await using var socket = await node.ConnectRawAsync(user.Token);
                await socket.ExpectTextAsync(); // welcome
                for (var i = 0; i < 10; i++) acknowledged.Add(await node.PublishAsync());
                var seen = new List<long>();
                for (var i = 0; i < 5; i++) seen.Add(SeqOf(await socket.ExpectTextAsync()));
                lastSeen = seen[^1];
                Assert.Equal(acknowledged.Take(5), seen);

                await node.SignalAsync("KILL"); // no shutdown, no 1001, no flush
                Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(10)));
                Assert.Equal(0, await socket.ExpectCloseAsync()); // the socket just dies
            }

            await using var restarted = await ChildServer.StartAsync(0, dataDirectory);
            var token = await restarted.LoginAsync(username);
            await using var again = await restarted.ConnectRawAsync(token, $"after_seq={lastSeen}");
            Assert.Equal(101, again.Status);
            await again.ExpectTextAsync(); // welcome
            var replayed = new List<long>();
            string text;
            while (!(text = await again.ExpectTextAsync()).Contains("\"replay_complete\"", StringComparison.Ordinal)) replayed.Add(SeqOf(text));
            Assert.Equal(acknowledged.Skip(5), replayed); // every acknowledged signal, once, in order

            var next = await restarted.PublishAsync();
            Assert.True(next > acknowledged[^1], "seq keeps growing across the restart");
            Assert.Equal(next, SeqOf(await again.ExpectTextAsync()));
        }
        finally
        {
            try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    private static long SeqOf(string frame)
    {
        var message = JsonSerializer.Deserialize(frame, ProtocolJson.Default.ServerMessage)!;
        Assert.Equal(MessageTypes.Signal, message.Type);
        return message.Seq!.Value;
    }
}
