using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;
using SignalStream.Server.Transport;

namespace SignalStream.Server.Tests.Transport;

/// <summary>
/// Streaming/ConnectionUpgrade: a stream upgrade is served on the connection, outside the HTTP
/// pipeline (the memory per idle connection depends on it), and everything else still reaches the
/// pipeline with its answer unchanged. Each test says which path it expects, by the connection log.
/// </summary>
[Trait("Kind", "Functional")]
public sealed class ConnectionUpgradeTests(ConnectionUpgradeTests.Fixture fixture) : IClassFixture<ConnectionUpgradeTests.Fixture>
{
    public sealed class Fixture() : ServerFixture();

    private TestServer Server => fixture.Server;

    private int OpenedOn(string path, string userId) =>
        Server.Logs.Count(l => l.Contains($"opened for user {userId}", StringComparison.Ordinal) && l.Contains($"on the {path} path", StringComparison.Ordinal));

    [Fact]
    public async Task Upgrade_IsServedOnTheConnection_AndStreams()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var (socket, _) = await Server.ConnectWelcomedAsync(user.Token);
        await using var _s = socket;
        var seq = await Server.PublishAsync();
        var signal = await socket.ExpectAsync(MessageTypes.Signal);
        Assert.Equal(seq, signal.Signal!.Seq);
        Assert.Equal(1, OpenedOn("connection", user.Id));
        Assert.Equal(0, OpenedOn("http", user.Id));
    }

    [Fact]
    public async Task RequestLog_OfAConnectionUpgrade_HasTheStatus_AndNoToken()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        await using var socket = await Server.ConnectRawAsync(query: $"token={user.Token}&after_seq=0");
        Assert.Equal(101, socket.Status);
        Assert.Contains("welcome", await socket.ExpectTextAsync(), StringComparison.Ordinal);
        var line = Assert.Single(Server.Logs, l => l.Contains("GET /ws/signals?token=[redacted]&after_seq=0 answered 101", StringComparison.Ordinal));
        Assert.Contains("RequestLogging", line, StringComparison.Ordinal); // one setting turns request lines on or off
        Assert.DoesNotContain(Server.Logs, l => l.Contains(user.Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task UpgradeAfterAnotherRequest_OnTheSameConnection_TakesTheHttpPath()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var health = $"GET /healthz HTTP/1.1\r\nHost: {Server.BaseUri.Authority}\r\n\r\n";
        await using var socket = await Server.ConnectRawAsync(bearer: user.Token, style: new RawHandshake(PrecedingRequest: health));
        Assert.Equal(101, socket.Status);
        Assert.Contains("welcome", await socket.ExpectTextAsync(), StringComparison.Ordinal);
        Assert.Equal(1, OpenedOn("http", user.Id));
        Assert.Equal(0, OpenedOn("connection", user.Id));
    }

    [Fact]
    public async Task UpgradeArrivingInPieces_WithAFrameSentBeforeThe101_IsServed()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var ping = RawWebSocket.EncodeFrame(RawFrame.Text, """{"type":"ping","ts":42}"""u8);
        await using var socket = await Server.ConnectRawAsync(bearer: user.Token, style: new RawHandshake(Pieces: 4, FollowedBy: ping));
        Assert.Equal(101, socket.Status);
        Assert.Contains("welcome", await socket.ExpectTextAsync(), StringComparison.Ordinal);
        Assert.Contains("pong", await socket.ExpectTextAsync(), StringComparison.Ordinal);
        Assert.Equal(1, OpenedOn("connection", user.Id));
    }

    [Fact]
    public async Task Refusal_OnTheConnectionPath_IsAnsweredByThePipeline_AndCountedOnce()
    {
        var before = Server.Logs.Count(l => l.Contains("Upgrade refused with 403", StringComparison.Ordinal));
        await using var socket = await Server.ConnectRawAsync(bearer: fixture.User.Token, origin: "https://evil.example");
        Assert.Equal(403, socket.Status);
        Assert.StartsWith("application/problem+json", socket.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Contains("Origin not allowed", socket.Body, StringComparison.Ordinal);
        Assert.Equal(before + 1, Server.Logs.Count(l => l.Contains("Upgrade refused with 403", StringComparison.Ordinal)));
        Assert.Contains(Server.Logs, l => l.Contains("GET /ws/signals answered 403", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SingleUseTicket_RefusedOnTheConnectionPath_IsNotRedeemedTwice()
    {
        // The pipeline answers the refusal it is handed; it does not admit the request again.
        var ticket = await Server.TicketAsync(fixture.User.Token);
        await using (var first = await Server.ConnectRawAsync(query: $"ticket={ticket}&after_seq=x"))
        {
            Assert.Equal(400, first.Status);
            Assert.Contains("Invalid after_seq", first.Body, StringComparison.Ordinal);
        }
        await using var again = await Server.ConnectRawAsync(query: $"ticket={ticket}");
        Assert.Equal(401, again.Status);
    }

    [Fact]
    public async Task SilentNewConnection_WaitsLikeKestrelsKeepAlive_ThenUpgradesOnTheConnection()
    {
        // A browser may open a socket ahead of need and send its request later: the head timeout starts at the first byte.
        await using var server = await TestServer.StartAsync(b => b.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(1);
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
        }));
        var user = await server.CreateUserAsync(Tier.Starter);
        await using var socket = await server.ConnectRawAsync(bearer: user.Token, style: new RawHandshake(SilenceFirst: TimeSpan.FromSeconds(2)));
        Assert.Equal(101, socket.Status);
        Assert.Contains("welcome", await socket.ExpectTextAsync(), StringComparison.Ordinal);
        Assert.Contains(server.Logs, l => l.Contains($"opened for user {user.Id}", StringComparison.Ordinal) && l.Contains("on the connection path", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HeadThatNeverCompletes_IsCutOff_AtKestrelsHeaderTimeout()
    {
        await using var server = await TestServer.StartAsync(b => b.WebHost.ConfigureKestrel(k => k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(2)));
        using var tcp = new TcpClient(AddressFamily.InterNetwork);
        await tcp.ConnectAsync(IPAddress.Loopback, server.BaseUri.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /ws/signals?token=x HTTP/1.1\r\nHost: {server.BaseUri.Authority}\r\n"));
        var waited = Stopwatch.StartNew();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        int read;
        try { read = await stream.ReadAsync(new byte[1024], limit.Token); }
        catch (IOException) { read = 0; } // reset: cut off just the same
        Assert.Equal(0, read);
        Assert.InRange(waited.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task HeadDrippedPastTheSizeThisPathReads_IsCutOff_WithinTheOneHeaderTimeout()
    {
        // SECURITY.md, "a head dripped slowly, past any size": handed over to Kestrel unfinished, three
        // quarters into its budget, it keeps what is left of the budget; a fresh one would let it run to 3.5 s.
        var budget = TimeSpan.FromSeconds(2);
        await using var server = await TestServer.StartAsync(b => b.WebHost.ConfigureKestrel(k => k.Limits.RequestHeadersTimeout = budget));
        using var tcp = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        await tcp.ConnectAsync(IPAddress.Loopback, server.BaseUri.Port);
        var stream = tcp.GetStream();
        var waited = Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /ws/signals?token=x HTTP/1.1\r\nHost: {server.BaseUri.Authority}\r\nX-Padding: "));
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var closed = ReadUntilClosedAsync(stream, limit.Token);
        var handedOver = false;
        while (!closed.IsCompleted)
        {
            // The scenario itself: a byte every 100 ms, and past the 8 KB this path reads at 3/4 of the budget.
            var bytes = !handedOver && waited.Elapsed >= budget * 0.75 ? new byte[UpgradeHead.MaxBytes] : "a"u8.ToArray();
            if (bytes.Length > 1) Array.Fill(bytes, (byte)'a');
            handedOver |= bytes.Length > 1;
            try { await stream.WriteAsync(bytes, limit.Token); }
            catch (IOException) { break; } // cut off while writing
            await Task.WhenAny(closed, Task.Delay(100, limit.Token));
        }
        await closed;
        Assert.True(handedOver);
        Assert.InRange(waited.Elapsed, budget * 0.9, budget * 1.5);
    }

    private static async Task ReadUntilClosedAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[1024];
        try
        {
            while (await stream.ReadAsync(buffer, ct) > 0) { } // a 408 or nothing, then the close
        }
        catch (IOException) { } // reset: cut off just the same
    }
}
