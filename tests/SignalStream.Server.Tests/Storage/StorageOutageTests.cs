using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SignalStream.Protocol;
using SignalStream.Server.Storage;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Storage;

/// <summary>
/// SECURITY.md, "Faults", database rows, and "Authorization", "tier lookup fails": sockets stay up,
/// nothing unstored is broadcast, readiness says so, lookups fail closed (503, never a stale
/// premium tier), and the service recovers by itself.
/// </summary>
[Trait("Kind", "Security")]
public sealed class StorageOutageTests
{
    [Fact]
    public async Task DatabaseLocked_IngestIs503_SocketsStayUp_NothingBroadcast_ThenDeliveryResumes()
    {
        var dbFile = Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N") + ".db");
        await using var server = await TestServer.StartAsync($"--Storage:ConnectionString=Data Source={dbFile};Default Timeout=1");
        var users = new[] { await server.CreateUserAsync(Tier.Starter), await server.CreateUserAsync(Tier.Institutional) };
        var sockets = new List<TestSocket>();
        foreach (var user in users) sockets.Add((await server.ConnectWelcomedAsync(user.Token)).Socket);
        try
        {
            var before = await server.PublishAsync();
            foreach (var socket in sockets) Assert.Equal(before, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);

            var refusedBodies = new List<object>();
            await using (var blocker = new SqliteConnection($"Data Source={dbFile}"))
            {
                await blocker.OpenAsync();
                using var lockCommand = blocker.CreateCommand();
                lockCommand.CommandText = "BEGIN EXCLUSIVE";
                await lockCommand.ExecuteNonQueryAsync();

                for (var i = 0; i < 3; i++)
                {
                    var body = TestServer.NewSignal($"outage-{i}", minTier: i == 1 ? Tier.Institutional : null);
                    using var refused = await server.PostSignalAsync(body);
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                    Assert.NotNull(refused.Headers.RetryAfter);
                    refusedBodies.Add(body);
                }
                // Up, and answering, but given nothing.
                foreach (var socket in sockets) Assert.DoesNotContain(await socket.DrainUntilPongAsync(), f => f.Type == MessageTypes.Signal);

                lockCommand.CommandText = "ROLLBACK";
                await lockCommand.ExecuteNonQueryAsync();
            }

            // Recovered without a restart: the publisher's retries store each once, in order, and everyone gets them.
            var stored = new List<(long Seq, bool Premium)>();
            for (var i = 0; i < refusedBodies.Count; i++)
            {
                using var retried = await server.PostSignalAsync(refusedBodies[i]);
                Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
                stored.Add(((await retried.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse))!.Seq, i == 1));
            }
            Assert.Equal(stored.Where(s => !s.Premium).Select(s => s.Seq), (await sockets[0].DrainUntilPongAsync()).Where(f => f.Type == MessageTypes.Signal).Select(f => f.Seq!.Value));
            Assert.Equal(stored.Select(s => s.Seq), (await sockets[1].DrainUntilPongAsync()).Where(f => f.Type == MessageTypes.Signal).Select(f => f.Seq!.Value));
        }
        finally
        {
            foreach (var socket in sockets) await socket.DisposeAsync();
        }
    }

    [Fact]
    public async Task DatabaseDown_ReadinessReportsIt_LookupsFailClosed_SocketsStay_AndItRecovers()
    {
        var outage = new Outage();
        await using var server = await TestServer.StartAsync(b =>
        {
            outage.Decorate<IUserStore>(b.Services);
            outage.Decorate<ISignalStore>(b.Services);
            outage.Decorate<IStorageHealth>(b.Services);
        });
        var premium = await server.CreateUserAsync(Tier.Institutional);
        var (socket, _) = await server.ConnectWelcomedAsync(premium.Token);
        await using var _s = socket;
        using (var ready = await server.Http.GetAsync("/readyz")) Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        outage.IsDown = true;
        using (var ready = await server.Http.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            Assert.False(body.RootElement.GetProperty("checks").GetProperty("storage").GetBoolean());
        }
        using (var health = await server.Http.GetAsync("/healthz")) Assert.Equal(HttpStatusCode.OK, health.StatusCode); // alive, just not ready

        // Ingest: 503, nothing broadcast.
        using (var refused = await server.PostSignalAsync(TestServer.NewSignal()))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        // Once the tier cache may be stale (a second without the change feed), a premium user's
        // new connection and REST list are refused 503: never served on a tier nobody can check.
        await Eventually.TrueAsync(async () =>
        {
            await using var attempt = await server.ConnectRawAsync(bearer: premium.Token);
            Assert.True(attempt.Status is 101 or 503, $"only a cached answer or 503, got {attempt.Status}");
            return attempt.Status == 503;
        }, "upgrades fail closed");
        using (var list = TestServer.UserRequest(HttpMethod.Get, Paths.Signals, premium.Token))
        using (var response = await server.Http.SendAsync(list))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using (var login = await server.Http.PostAsync(Paths.Token, new StringContent(JsonSerializer.Serialize(new { username = premium.Username, password = TestServer.Password }), System.Text.Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, login.StatusCode);

        // The socket that was already open stays open and answers.
        Assert.DoesNotContain(await socket.DrainUntilPongAsync(), f => f.Type == MessageTypes.Signal);

        // Back: recovers by itself, no restart.
        outage.IsDown = false;
        await Eventually.TrueAsync(async () =>
        {
            using var ready = await server.Http.GetAsync("/readyz");
            return ready.StatusCode == HttpStatusCode.OK;
        }, "ready again");
        var seq = await server.PublishAsync(minTier: Tier.Institutional);
        Assert.Equal(seq, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);
        var (fresh, _) = await server.ConnectWelcomedAsync(premium.Token);
        await fresh.DisposeAsync();
    }
}
