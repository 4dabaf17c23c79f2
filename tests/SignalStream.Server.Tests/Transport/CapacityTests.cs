using System.Net;
using System.Net.Sockets;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SignalStream.Server.Tests.Transport;

/// <summary>
/// Issue 3, "Capacity": a process that runs out of descriptors aborts ("Out of memory"), so the
/// server must refuse before that, cleanly, with ceilings read from its own limit. The server runs
/// as a child process under <c>ulimit -n 500</c> and is filled up. (Not 300: the runtime keeps
/// about two descriptors open per loaded assembly, some 280 once warm, so at 300 the honest
/// WebSocket ceiling is zero.) One process for the whole story, since each start costs seconds.
/// </summary>
[Trait("Kind", "Security")]
public sealed class CapacityTests(ITestOutputHelper output)
{
    private const int FileLimit = 500;

    [Fact]
    public async Task UnderALowDescriptorLimit_TcpFloodIsShed_UpgradesPastTheCeilingAre503_ServingContinues_SigtermEndsCleanly()
    {
        await using var server = await ChildServer.StartAsync(FileLimit, null, "--Limits:ConnectionsPerUser=100000");
        try
        {
            Assert.Contains(server.Output, l => l.Contains($"descriptor limit {FileLimit}", StringComparison.Ordinal));
            await ShedsATcpFloodAsync(server);
            await RefusesPastTheCeilingAndKeepsServingAsync(server);
            Assert.DoesNotContain(server.Output, l => l.Contains("Out of memory", StringComparison.OrdinalIgnoreCase));
        }
        catch
        {
            foreach (var line in server.Output.TakeLast(40)) output.WriteLine(line);
            throw;
        }
    }

    /// <summary>More idle TCP connections than the process has descriptors: Kestrel's ceiling sheds them, the process lives.</summary>
    private async Task ShedsATcpFloodAsync(ChildServer server)
    {
        var clients = new List<TcpClient>();
        try
        {
            // Plain TCP connections that never send a byte: more than the process has descriptors
            // left (about 260 of its 500), fewer than its listen backlog holds (512).
            for (var i = 0; i < 400; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(server.BaseUri.Host, server.BaseUri.Port);
                clients.Add(client);
            }
            output.WriteLine($"descriptors with {clients.Count} idle TCP clients: {server.OpenDescriptors}");
            Assert.False(server.HasExited);
            Assert.True(server.OpenDescriptors < FileLimit - 20, "the server sheds connections instead of running out");
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                using var health = await server.Http.GetAsync("/healthz");
                return health.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException) { return false; }
        }, "healthz answers once the flood is gone", TimeSpan.FromSeconds(30));
    }

    private async Task RefusesPastTheCeilingAndKeepsServingAsync(ChildServer server)
    {
        var user = await server.CreateUserAsync(Tier.Starter);
        var open = new List<RawWebSocket>();
        try
        {
            RawWebSocket? refused = null;
            while (refused is null && open.Count < FileLimit)
            {
                var socket = await server.ConnectRawAsync(user.Token);
                if (socket.Status == 101) open.Add(socket);
                else refused = socket;
            }
            output.WriteLine($"{open.Count} accepted; {server.OpenDescriptors} descriptors in use");
            Assert.NotNull(refused);
            await using (refused)
            {
                refused.AssertProblem(HttpStatusCode.ServiceUnavailable);
                Assert.True(refused.Headers.ContainsKey("Retry-After"));
            }
            Assert.InRange(open.Count, 50, FileLimit - 250);
            Assert.True(server.OpenDescriptors < FileLimit - 40, "room is left for the database, logs and plain requests");

            // Every further attempt is refused the same way, before the upgrade; the process lives.
            for (var i = 0; i < 20; i++)
            {
                await using var again = await server.ConnectRawAsync(user.Token);
                Assert.Equal(503, again.Status);
            }
            using (var health = await server.Http.GetAsync("/healthz")) Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.False(server.HasExited);

            // The connections it holds are whole: each got its welcome and gets the next signal.
            foreach (var socket in open) Assert.Contains("\"welcome\"", await socket.ExpectTextAsync(), StringComparison.Ordinal);
            var seq = await server.PublishAsync();
            foreach (var socket in open) Assert.Contains($"\"seq\":{seq},", await socket.ExpectTextAsync(), StringComparison.Ordinal);

            // Room made is room taken again.
            foreach (var socket in open.Take(5)) await socket.DisposeAsync();
            open.RemoveRange(0, 5);
            for (var i = 0; i < 5; i++)
            {
                open.Add(await Eventually.ResultAsync(async () =>
                {
                    var socket = await server.ConnectRawAsync(user.Token);
                    if (socket.Status == 101) return socket;
                    await socket.DisposeAsync();
                    return null;
                }, "a freed slot is usable"));
            }

            // SIGTERM with everyone connected and a signal just published: the signal, then 1001, then exit.
            var last = await server.PublishAsync();
            await server.SignalAsync("TERM");
            foreach (var socket in open)
            {
                string text;
                do text = await socket.ExpectTextAsync(); while (!text.Contains($"\"seq\":{last},", StringComparison.Ordinal));
                Assert.Equal(CloseCodes.GoingAway, await socket.ExpectCloseAsync());
                await socket.SendCloseAsync(CloseCodes.GoingAway);
            }
            Assert.True(await server.WaitForExitAsync(TimeSpan.FromSeconds(10)), "exits after SIGTERM");
            Assert.Equal(0, server.ExitCode);
        }
        finally
        {
            foreach (var socket in open) await socket.DisposeAsync();
        }
    }
}
