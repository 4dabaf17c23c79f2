using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Auth;

/// <summary>
/// SECURITY.md, "Authentication": every bad credential is refused with 401 and a problem body
/// before the upgrade (no socket), on every path that takes one, and never with a 500.
/// </summary>
[Trait("Kind", "Security")]
public sealed class AuthenticationTests(AuthenticationTests.Fixture fixture) : IClassFixture<AuthenticationTests.Fixture>
{
    public sealed class Fixture() : ServerFixture();

    private readonly TestServer _server = fixture.Server;
    private readonly TestUser _user = fixture.User;

    public static TheoryData<string> BadTokens => new(Tokens.BadKinds);

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Upgrade_WithBadToken_Is401BeforeTheUpgrade_OnEveryPath(string kind)
    {
        var token = TestServer.RememberSecret(Tokens.Forge(kind, _user.Id, _user.Token));

        // Authorization: Bearer, then ?token=: a problem body, and no socket.
        await using (var socket = await _server.ConnectRawAsync(bearer: token))
            socket.AssertProblem(HttpStatusCode.Unauthorized);
        await using (var socket = await _server.ConnectRawAsync($"token={Uri.EscapeDataString(token)}"))
            socket.AssertProblem(HttpStatusCode.Unauthorized);

        // The HTTP paths that take a token answer the same.
        using (var request = TestServer.UserRequest(HttpMethod.Get, Paths.Signals, token))
        using (var response = await _server.Http.SendAsync(request))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using (var request = TestServer.UserRequest(HttpMethod.Post, Paths.WsTicket, token))
        using (var response = await _server.Http.SendAsync(request))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Upgrade_ForgedTokenWithOurKey_IsAccepted_SoTheRefusalsAboveAreAboutTheFlaw()
    {
        // The control for the theory above: the same forging code, nothing wrong, gets in.
        var token = Tokens.Forge("valid", _user.Id, _user.Token);
        await using var socket = await _server.ConnectRawAsync(bearer: token);
        Assert.Equal(101, socket.Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("token=")]
    [InlineData("ticket=")]
    [InlineData("token=&ticket=")]
    public async Task Upgrade_WithNoOrEmptyCredentials_Is401(string query)
    {
        await using var socket = await _server.ConnectRawAsync(query);
        socket.AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("bearer    ")]
    public async Task Upgrade_WithEmptyOrOtherAuthorizationScheme_Is401(string header)
    {
        await using var socket = await _server.ConnectRawAsync(headers: [("Authorization", header)]);
        socket.AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Upgrade_TwentyKilobyteTokenInHeaderAndQuery_Is401NotATransportError()
    {
        var huge = new string('a', 20 * 1024);
        await using (var socket = await _server.ConnectRawAsync(bearer: huge)) socket.AssertProblem(HttpStatusCode.Unauthorized);
        await using (var socket = await _server.ConnectRawAsync($"token={huge}")) socket.AssertProblem(HttpStatusCode.Unauthorized);
        await using (var socket = await _server.ConnectRawAsync($"ticket={huge}")) socket.AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Ticket_UsedTwice_SecondIs401()
    {
        var ticket = await _server.TicketAsync(_user.Token);
        await using (var first = await _server.ConnectRawAsync($"ticket={Uri.EscapeDataString(ticket)}"))
            Assert.Equal(101, first.Status);
        await using var second = await _server.ConnectRawAsync($"ticket={Uri.EscapeDataString(ticket)}");
        second.AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Ticket_RefusedBeforeTheUpgrade_IsStillSpent()
    {
        // A ticket presented past the per-user limit is redeemed (to learn whose it is) and so spent:
        // it cannot be replayed once a slot is free.
        await using var server = await TestServer.StartAsync("--Limits:ConnectionsPerUser=1");
        var user = await server.CreateUserAsync(Tier.Starter);
        var (holder, _) = await server.ConnectWelcomedAsync(user.Token);
        var ticket = await server.TicketAsync(user.Token);
        await using (var refused = await server.ConnectRawAsync($"ticket={ticket}"))
            Assert.Equal(429, refused.Status);
        await holder.DisposeAsync();
        await using var replay = await server.ConnectRawAsync($"ticket={ticket}");
        replay.AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Ticket_AfterItsThirtySeconds_Is401_AndJustBeforeIsAccepted()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(clock);
        var user = await server.CreateUserAsync(Tier.Starter);

        var early = await server.TicketAsync(user.Token);
        var late = await server.TicketAsync(user.Token);
        clock.Advance(TimeSpan.FromSeconds(29));
        await using (var socket = await server.ConnectRawAsync($"ticket={early}")) Assert.Equal(101, socket.Status);
        clock.Advance(TimeSpan.FromSeconds(2));
        await using (var socket = await server.ConnectRawAsync($"ticket={late}")) socket.AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Ticket_IsNotAnAccessToken_AndATokenIsNotATicket()
    {
        var ticket = await _server.TicketAsync(_user.Token);
        await using (var socket = await _server.ConnectRawAsync($"token={ticket}")) socket.AssertProblem(HttpStatusCode.Unauthorized);
        await using (var socket = await _server.ConnectRawAsync(bearer: ticket)) socket.AssertProblem(HttpStatusCode.Unauthorized);
        await using (var socket = await _server.ConnectRawAsync($"ticket={Uri.EscapeDataString(_user.Token)}")) socket.AssertProblem(HttpStatusCode.Unauthorized);
        // A query credential is judged on its own: a good bearer header does not rescue a bad ?ticket=.
        await using (var socket = await _server.ConnectRawAsync("ticket=made-up-ticket-0123456789", bearer: _user.Token)) socket.AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Login_WithWrongPasswordOrUnknownUser_Is401_AndDisabledIs403()
    {
        using (var response = await _server.Http.PostAsync(Paths.Token, Json(new { username = _user.Username, password = "wrong password" })))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using (var response = await _server.Http.PostAsync(Paths.Token, Json(new { username = "nobody-here", password = "wrong password" })))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        var disabled = await _server.CreateUserAsync(Tier.Institutional);
        using (var change = await _server.UpdateUserAsync(disabled.Id, new { disabled = true })) Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        using (var response = await _server.Http.PostAsync(Paths.Token, Json(new { username = disabled.Username, password = TestServer.Password })))
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using (var request = TestServer.UserRequest(HttpMethod.Post, Paths.WsTicket, disabled.Token))
        using (var response = await _server.Http.SendAsync(request))
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await using var socket = await _server.ConnectRawAsync(bearer: disabled.Token);
        socket.AssertProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Disable_WhileConnected_ClosesEverySocketOfTheUser4503WithinASecond_OthersStay()
    {
        // "Within a second" of the server's time: its clock moves only when the test says.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(clock);
        var victim = await server.CreateUserAsync(Tier.Professional);
        var bystanderUser = await server.CreateUserAsync(Tier.Professional);
        var (a, _) = await server.ConnectWelcomedAsync(victim.Token);
        var ticket = await server.TicketAsync(victim.Token);
        var b = new TestSocket(new System.Net.WebSockets.ClientWebSocket());
        await b.Inner.ConnectAsync(server.WsUri($"ticket={ticket}"), CancellationToken.None);
        await b.ExpectAsync(MessageTypes.Welcome);
        var (bystander, _) = await server.ConnectWelcomedAsync(bystanderUser.Token);
        await using var _a = a;
        await using var _b = b;
        await using var _c = bystander;

        using (var response = await server.UpdateUserAsync(victim.Id, new { disabled = true })) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CloseCodes.UserDisabled, await a.ExpectCloseAsync());
        Assert.Equal(CloseCodes.UserDisabled, await b.ExpectCloseAsync());

        // Nothing is delivered to the disabled user after the close; the bystander still gets it.
        var seq = await server.PublishAsync(minTier: Tier.Professional);
        Assert.Equal(seq, (await bystander.ExpectAsync(MessageTypes.Signal)).Seq);
        await using var again = await server.ConnectRawAsync(bearer: victim.Token);
        again.AssertProblem(HttpStatusCode.Forbidden);
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
