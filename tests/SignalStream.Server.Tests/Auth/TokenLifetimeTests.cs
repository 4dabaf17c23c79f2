using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Auth;

/// <summary>
/// SECURITY.md, "token expires while connected": <c>token_expiring</c>, then close 4001 unless
/// refreshed; a reconnect with a new token resumes with no gap. Tokens live 4 s here, with the
/// notice 2 s before; the server checks once a second, so each step has a second of slack.
/// </summary>
[Trait("Kind", "Security")]
public sealed class TokenLifetimeTests(TokenLifetimeTests.Fixture fixture) : IClassFixture<TokenLifetimeTests.Fixture>
{
    public sealed class Fixture() : ServerFixture("--Auth:TokenLifetime=00:00:04", "--Auth:ExpiryNotice=00:00:02");

    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1.5);

    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Token_NotRefreshed_GetsTokenExpiringThenClose4001_AndAReconnectResumesWithNoGap()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var token = await Server.LoginAsync(user.Username);
        var issuedAt = DateTimeOffset.UtcNow;
        var (socket, _) = await Server.ConnectWelcomedAsync(token);
        await using var _s = socket;
        var before = await Server.PublishAsync();
        Assert.Equal(before, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);

        var expiring = await SeenOrNextAsync(socket, MessageTypes.TokenExpiring);
        var expiresAt = expiring.ExpiresAt!.Value;
        Assert.InRange(expiresAt, issuedAt.AddSeconds(2.5), issuedAt.AddSeconds(5.5)); // exp is in whole seconds
        Assert.True(DateTimeOffset.UtcNow < expiresAt, "the notice comes before the expiry");

        Assert.Equal(CloseCodes.TokenExpired, await socket.ExpectCloseAsync(expiresAt - DateTimeOffset.UtcNow + Slack));
        Assert.True(DateTimeOffset.UtcNow >= expiresAt, "not closed before the token expired");

        // Signals published while it was away come back, in order, on a reconnect with a new token.
        var missed = new[] { await Server.PublishAsync(), await Server.PublishAsync(minTier: Tier.Institutional), await Server.PublishAsync() };
        var fresh = await Server.LoginAsync(user.Username);
        var (again, _) = await Server.ConnectWelcomedAsync(fresh, $"after_seq={before}");
        await using var _a = again;
        var replayed = new List<long>();
        ServerMessage frame;
        while ((frame = (await again.ReceiveAsync())!).Type == MessageTypes.Signal) replayed.Add(frame.Seq!.Value);
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

        var oldExpiry = (await SeenOrNextAsync(socket, MessageTypes.TokenExpiring)).ExpiresAt!.Value;
        var fresh = await Server.LoginAsync(user.Username);
        await socket.SendAsync(new { type = "refresh", token = fresh });
        await socket.DrainUntilPongAsync(); // the refresh is applied before the pong

        // Wait out the old expiry plus a sweep.
        var pastOldExpiry = oldExpiry + Slack - DateTimeOffset.UtcNow;
        if (pastOldExpiry > TimeSpan.Zero) await Task.Delay(pastOldExpiry);
        var frames = await socket.DrainUntilPongAsync();
        Assert.DoesNotContain(frames, f => f.Type == MessageTypes.Error);
        var seq = await Server.PublishAsync();
        Assert.Equal(seq, (await socket.ExpectAsync(MessageTypes.Signal)).Seq);

        // The new token gets its own notice, for its own expiry.
        var next = socket.Received.FirstOrDefault(f => f.Type == MessageTypes.TokenExpiring && f.ExpiresAt > oldExpiry)
            ?? await socket.ExpectAsync(MessageTypes.TokenExpiring, TimeSpan.FromSeconds(4));
        Assert.True(next.ExpiresAt > oldExpiry);
    }

    [Fact]
    public async Task Refresh_WithAnotherUsersOrABadToken_IsAnErrorFrame_AndDoesNotExtend()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var other = await Server.CreateUserAsync(Tier.Institutional);
        var token = await Server.LoginAsync(user.Username);
        var (socket, _) = await Server.ConnectWelcomedAsync(token);
        await using var _s = socket;

        foreach (var bad in new[] { other.Token, Tokens.Forge("expired", user.Id, token), Tokens.Forge("alg-none", user.Id, token), "garbage" })
        {
            await socket.SendAsync(new { type = "refresh", token = bad });
            var error = await socket.ExpectAsync(MessageTypes.Error);
            Assert.Equal(ErrorCodes.InvalidToken, error.Code);
        }
        // Still this user's connection, at this user's tier: nothing of the other user's leaks in.
        await Server.PublishAsync(minTier: Tier.Institutional);
        Assert.DoesNotContain(await socket.DrainUntilPongAsync(), f => f.Type == MessageTypes.Signal);

        // And the original expiry still holds.
        await SeenOrNextAsync(socket, MessageTypes.TokenExpiring);
        Assert.Equal(CloseCodes.TokenExpired, await socket.ExpectCloseAsync(TimeSpan.FromSeconds(2) + Slack));
    }

    [Fact]
    public async Task Connect_ByTicket_LivesNoLongerThanTheTokenThatBoughtIt()
    {
        var user = await Server.CreateUserAsync(Tier.Starter);
        var token = await Server.LoginAsync(user.Username);
        var ticket = await Server.TicketAsync(token);
        var raw = new System.Net.WebSockets.ClientWebSocket();
        await raw.ConnectAsync(Server.WsUri($"ticket={ticket}"), CancellationToken.None);
        await using var socket = new TestSocket(raw);
        await socket.ExpectAsync(MessageTypes.Welcome);
        await socket.ExpectAsync(MessageTypes.TokenExpiring, TimeSpan.FromSeconds(4));
        Assert.Equal(CloseCodes.TokenExpired, await socket.ExpectCloseAsync(TimeSpan.FromSeconds(2) + Slack));
    }

    /// <summary>A frame of <paramref name="type"/> already read while waiting for something else, or the next one.</summary>
    private static async Task<ServerMessage> SeenOrNextAsync(TestSocket socket, string type) =>
        socket.Received.FirstOrDefault(f => f.Type == type) ?? await socket.ExpectAsync(type, TimeSpan.FromSeconds(4));
}
