using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Auth;

/// <summary>
/// SECURITY.md, "token expires while connected": <c>token_expiring</c>, then close 4001 unless
/// refreshed; a reconnect with a new token resumes with no gap. Tokens live 4 s here, with the
/// notice 2 s before, on a clock the tests move: the server issues tokens and sweeps its
/// connections (once a second) on it, so each step happens when the test says, however busy the
/// machine. Waits are only ceilings: each returns with the frame it waits for.
/// </summary>
[Trait("Kind", "Security")]
public sealed class TokenLifetimeTests(TokenLifetimeTests.Fixture fixture) : IClassFixture<TokenLifetimeTests.Fixture>
{
    public sealed class Fixture() : ServerFixture($"--Auth:TokenLifetime={Lifetime:c}", $"--Auth:ExpiryNotice={Notice:c}")
    {
        public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

        protected override void Configure(WebApplicationBuilder builder) => builder.Services.AddSingleton<TimeProvider>(Clock);
    }

    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Notice = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private TestServer Server => fixture.Server;
    private FakeTimeProvider Clock => fixture.Clock;

    [Fact]
    public async Task Token_NotRefreshed_GetsTokenExpiringThenClose4001_AndAReconnectResumesWithNoGap()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var issuedAt = Clock.GetUtcNow();
        var token = await Server.LoginAsync(user.Username);
        var (socket, _) = await Server.ConnectWelcomedAsync(token);
        await using var _s = socket;
        var before = await Server.PublishAsync();
        Assert.Equal(before, (await socket.ExpectAsync(MessageTypes.Signal, Wait)).Seq);
        Assert.DoesNotContain(await socket.DrainUntilPongAsync(), f => f.Type == MessageTypes.TokenExpiring); // not due yet

        Clock.Advance(Lifetime - Notice);
        var expiresAt = (await socket.ExpectAsync(MessageTypes.TokenExpiring, Wait)).ExpiresAt!.Value;
        Assert.InRange(expiresAt, issuedAt + Lifetime - TimeSpan.FromSeconds(1), issuedAt + Lifetime); // exp is in whole seconds
        await socket.DrainUntilPongAsync(); // still open: the notice is not the close

        Clock.Advance(expiresAt - Clock.GetUtcNow());
        Assert.Equal(CloseCodes.TokenExpired, await socket.ExpectCloseAsync(Wait));

        // Signals published while it was away come back, in order, on a reconnect with a new token.
        var missed = new[] { await Server.PublishAsync(), await Server.PublishAsync(minTier: Tier.Institutional), await Server.PublishAsync() };
        var fresh = await Server.LoginAsync(user.Username);
        var (again, _) = await Server.ConnectWelcomedAsync(fresh, $"after_seq={before}");
        await using var _a = again;
        var replayed = new List<long>();
        ServerMessage frame;
        while ((frame = (await again.ReceiveAsync(Wait))!).Type == MessageTypes.Signal) replayed.Add(frame.Seq!.Value);
        Assert.Equal(MessageTypes.ReplayComplete, frame.Type);
        Assert.Equal([missed[0], missed[2]], replayed);
    }

    [Fact]
    public async Task Token_RefreshedInBand_KeepsTheConnectionPastTheOldExpiry()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var token = await Server.LoginAsync(user.Username);
        var (socket, _) = await Server.ConnectWelcomedAsync(token);
        await using var _s = socket;

        Clock.Advance(Lifetime - Notice);
        var oldExpiry = (await socket.ExpectAsync(MessageTypes.TokenExpiring, Wait)).ExpiresAt!.Value;
        var fresh = await Server.LoginAsync(user.Username); // issued now: it expires Lifetime - Notice after the old one
        await socket.SendAsync(new { type = "refresh", token = fresh });
        Assert.DoesNotContain(await socket.DrainUntilPongAsync(), f => f.Type == MessageTypes.Error); // the refresh is applied before the pong

        // Past the old expiry, the sweep that would close the connection of an unrefreshed token
        // sends the new token's notice instead, for its own expiry.
        Clock.Advance(oldExpiry - Clock.GetUtcNow() + TimeSpan.FromMilliseconds(500));
        var next = await socket.ExpectAsync(MessageTypes.TokenExpiring, Wait);
        Assert.Equal(oldExpiry + Lifetime - Notice, next.ExpiresAt);
        var seq = await Server.PublishAsync();
        Assert.Equal(seq, (await socket.ExpectAsync(MessageTypes.Signal, Wait)).Seq);
    }

    [Fact]
    public async Task Refresh_WithAnotherUsersOrABadToken_IsAnErrorFrame_AndDoesNotExtend()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var issuedAt = Clock.GetUtcNow();
        var token = await Server.LoginAsync(user.Username);
        var (socket, _) = await Server.ConnectWelcomedAsync(token);
        await using var _s = socket;
        Clock.Advance(TimeSpan.FromSeconds(1));
        var other = await Server.CreateUserAsync(Tier.Institutional); // its token outlives this user's by a second

        foreach (var bad in new[] { other.Token, Tokens.Forge("expired", user.Id, token), Tokens.Forge("alg-none", user.Id, token), "garbage" })
        {
            await socket.SendAsync(new { type = "refresh", token = bad });
            var error = await socket.ExpectAsync(MessageTypes.Error, Wait);
            Assert.Equal(ErrorCodes.InvalidToken, error.Code);
        }
        // Still this user's connection, at this user's tier: nothing of the other user's leaks in.
        await Server.PublishAsync(minTier: Tier.Institutional);
        Assert.DoesNotContain(await socket.DrainUntilPongAsync(), f => f.Type == MessageTypes.Signal);

        // And the original expiry still holds.
        Clock.Advance(issuedAt + Lifetime - Notice - Clock.GetUtcNow());
        var expiresAt = (await socket.ExpectAsync(MessageTypes.TokenExpiring, Wait)).ExpiresAt!.Value;
        Assert.True(expiresAt <= issuedAt + Lifetime, "the notice is for this user's own token");
        Clock.Advance(expiresAt - Clock.GetUtcNow());
        Assert.Equal(CloseCodes.TokenExpired, await socket.ExpectCloseAsync(Wait));
    }

    [Fact]
    public async Task Connect_ByTicket_LivesNoLongerThanTheTokenThatBoughtIt()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var issuedAt = Clock.GetUtcNow();
        var token = await Server.LoginAsync(user.Username);
        var ticket = await Server.TicketAsync(token);
        var raw = new System.Net.WebSockets.ClientWebSocket();
        await raw.ConnectAsync(Server.WsUri($"ticket={ticket}"), CancellationToken.None);
        await using var socket = new TestSocket(raw);
        await socket.ExpectAsync(MessageTypes.Welcome, Wait);

        Clock.Advance(Lifetime - Notice);
        var expiresAt = (await socket.ExpectAsync(MessageTypes.TokenExpiring, Wait)).ExpiresAt!.Value;
        Assert.True(expiresAt <= issuedAt + Lifetime, "the token's expiry, not the ticket's");
        Clock.Advance(expiresAt - Clock.GetUtcNow());
        Assert.Equal(CloseCodes.TokenExpired, await socket.ExpectCloseAsync(Wait));
    }
}
