using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Ingest;

/// <summary>
/// "Store, then deliver" across a crash: a server killed with SIGKILL while publishers are answered (some signals
/// stored and acknowledged but not yet broadcast) loses nothing it acknowledged, and a client resuming on the
/// restarted server gets every stored signal after its last one, once, in seq order.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class CrashRecoveryTests
{
    [Fact]
    public async Task KilledRightAfterStoring_RestartedOnTheSameData_AResumingClientGetsEverythingStored()
    {
        const int KillAfter = 150;
        var data = Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N"));
        var acknowledged = new ConcurrentBag<long>();
        string username;
        long lastSeen;
        try
        {
            await using (var server = await ChildServer.StartAsync(0, data))
            {
                var user = await server.CreateUserAsync(Tier.Institutional);
                username = user.Username;
                await using var socket = await server.ConnectRawAsync(user.Token);
                lastSeen = Parse(await socket.ExpectTextAsync(TimeSpan.FromSeconds(30))).LastSeq!.Value; // welcome

                // Eight publishers flat out; the kill lands while POSTs are being stored and answered.
                var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                async Task Publisher()
                {
                    while (true)
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = JsonContent.Create(TestServer.NewSignal()) };
                        request.Headers.Add("X-API-Key", TestServer.PublisherKey);
                        try
                        {
                            using var response = await server.Http.SendAsync(request);
                            if (response.StatusCode != HttpStatusCode.Created) return;
                            acknowledged.Add((await response.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse))!.Seq);
                            if (acknowledged.Count >= KillAfter) enough.TrySetResult();
                        }
                        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
                        {
                            return; // the server is gone
                        }
                    }
                }
                var publishers = Enumerable.Range(0, 8).Select(_ => Task.Run(Publisher)).ToList();
                await enough.Task.WaitAsync(TimeSpan.FromSeconds(60));
                await server.SignalAsync("KILL");
                Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
                await Task.WhenAll(publishers);

                Assert.Equal(0, await socket.ExpectCloseAsync(TimeSpan.FromSeconds(30))); // the connection ended without a close frame
                var before = socket.Texts.Select(Parse).Where(m => m.Type == MessageTypes.Signal).Select(m => m.Seq!.Value).ToList();
                if (before.Count > 0) lastSeen = before[^1];
            }

            await using var restarted = await ChildServer.StartAsync(0, data);
            var token = await restarted.LoginAsync(username);
            await using var resumed = await restarted.ConnectRawAsync(token, $"after_seq={lastSeen}");
            var welcome = Parse(await resumed.ExpectTextAsync(TimeSpan.FromSeconds(30)));
            Assert.True(welcome.LastSeq >= acknowledged.Max(), $"acknowledged up to {acknowledged.Max()}, history ends at {welcome.LastSeq}");

            var replayed = new List<long>();
            while (true)
            {
                var message = Parse(await resumed.ExpectTextAsync(TimeSpan.FromSeconds(30)));
                if (message.Type == MessageTypes.ReplayComplete) break;
                if (message.Type == MessageTypes.Signal) replayed.Add(message.Seq!.Value);
            }
            // Everything stored after the last signal the client saw (acknowledged or not), once, in order, no gap.
            Assert.Equal(Enumerable.Range(0, (int)(welcome.LastSeq!.Value - lastSeen)).Select(i => lastSeen + 1 + i), replayed);
            Assert.All(acknowledged.Where(seq => seq > lastSeen), seq => Assert.Contains(seq, replayed));
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    private static ServerMessage Parse(string text) => JsonSerializer.Deserialize(text, ProtocolJson.Default.ServerMessage)!;
}
