using System.Net;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Streaming;

/// <summary>
/// SECURITY.md, "per-user connection limit + 1": 429 before the upgrade; slots freed when clients
/// go, politely or not (a killed client's kernel sends FIN or RST; both are covered here, and a
/// client that vanishes without either is <see cref="KeepaliveTests"/>).
/// </summary>
[Trait("Kind", "Security")]
public sealed class ConnectionLimitTests(ConnectionLimitTests.Fixture fixture) : IClassFixture<ConnectionLimitTests.Fixture>
{
    public sealed class Fixture() : ServerFixture("--Limits:ConnectionsPerUser=2");

    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Connect_OverThePerUserLimit_Is429Problem_WhileOtherUsersConnect()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var (a, _) = await Server.ConnectWelcomedAsync(user.Token);
        var (b, _) = await Server.ConnectWelcomedAsync(user.Token);
        await using var _a = a;
        await using var _b = b;

        await using (var third = await Server.ConnectRawAsync(bearer: user.Token))
        {
            third.AssertProblem(HttpStatusCode.TooManyRequests);
            Assert.True(third.Headers.ContainsKey("Retry-After"));
        }
        var ticket = await Server.TicketAsync(user.Token);
        await using (var byTicket = await Server.ConnectRawAsync($"ticket={ticket}"))
            byTicket.AssertProblem(HttpStatusCode.TooManyRequests);

        var other = await Server.CreateUserAsync(Tier.Starter);
        var (c, _) = await Server.ConnectWelcomedAsync(other.Token);
        await using var _c = c;

        // The two that got in are whole: they still receive.
        var seq = await Server.PublishAsync();
        Assert.Equal(seq, (await a.ExpectAsync(MessageTypes.Signal)).Seq);
        Assert.Equal(seq, (await b.ExpectAsync(MessageTypes.Signal)).Seq);
    }

    [Fact]
    public async Task Connect_ManyAtOnceOverTheLimit_ExactlyTheLimitGetIn()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var attempts = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Server.ConnectRawAsync(bearer: user.Token)));
        try
        {
            Assert.Equal(2, attempts.Count(s => s.Status == 101));
            Assert.Equal(10, attempts.Count(s => s.Status == 429));
        }
        finally
        {
            foreach (var socket in attempts) await socket.DisposeAsync();
        }
    }

    public static TheoryData<string> WaysToLeave => new(["close-handshake", "abort-client", "tcp-fin", "tcp-reset"]);

    [Theory]
    [MemberData(nameof(WaysToLeave))]
    public async Task Slot_IsFreed_HoweverTheClientLeaves(string how)
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var (keeper, _) = await Server.ConnectWelcomedAsync(user.Token);
        await using var _k = keeper;
        Func<Task> leave;
        if (how == "abort-client")
        {
            // The polite client library, aborted mid-stream: what a crashed browser tab looks like.
            var (polite, _) = await Server.ConnectWelcomedAsync(user.Token);
            leave = () => { polite.Inner.Abort(); polite.Inner.Dispose(); return Task.CompletedTask; };
        }
        else
        {
            var raw = await Server.ConnectRawAsync(bearer: user.Token);
            Assert.Equal(101, raw.Status);
            async Task CloseHandshake()
            {
                await raw.SendCloseAsync();
                Assert.Equal(CloseCodes.Normal, await raw.ExpectCloseAsync());
                await raw.DisposeAsync();
            }
            Task TcpFin() // no close frame
            {
                raw.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
                return raw.DisposeAsync().AsTask();
            }
            Task TcpReset() // kill -9: the kernel resets the connection
            {
                raw.Reset();
                return Task.CompletedTask;
            }
            leave = how switch
            {
                "close-handshake" => CloseHandshake,
                "tcp-fin" => TcpFin,
                _ => TcpReset,
            };
        }
        await using (var refused = await Server.ConnectRawAsync(bearer: user.Token)) Assert.Equal(429, refused.Status);
        await leave();

        await Eventually.TrueAsync(() => Server.Get<ConnectionHub>().ConnectionsOf(user.Id) == 1, "the slot is freed");
        var (back, _) = await Server.ConnectWelcomedAsync(user.Token);
        await using var _b = back;
        var seq = await Server.PublishAsync();
        Assert.Equal(seq, (await back.ExpectAsync(MessageTypes.Signal)).Seq);
        Assert.Equal(seq, (await keeper.ExpectAsync(MessageTypes.Signal)).Seq);
    }
}
