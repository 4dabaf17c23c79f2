using System.Net;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Streaming;

/// <summary>
/// SECURITY.md, "Origin not on the allow-list": 403 before the upgrade, exact match only, <c>null</c>
/// never. A request without an Origin header is not from a browser page and is judged by its token
/// alone (PROTOCOL.md, "WebSocket"). Every case carries a valid token, so the origin is what decides.
/// </summary>
[Trait("Kind", "Security")]
public sealed class OriginTests(OriginTests.Fixture fixture) : IClassFixture<OriginTests.Fixture>
{
    public sealed class Fixture() : ServerFixture("--WebSockets:AllowedOrigins:0=https://app.example", "--WebSockets:AllowedOrigins:1=http://localhost:5173");

    [Theory]
    [InlineData("evil.example")]
    [InlineData("https://evil.example")]
    [InlineData("app.example")]                 // no scheme
    [InlineData("app.example.evil")]
    [InlineData("https://app.example.evil")]
    [InlineData("https://evil.app.example")]    // a subdomain is another origin
    [InlineData("https://app.example.")]        // trailing dot
    [InlineData("https://app.example/")]        // origins have no path
    [InlineData("https://app.example:443")]     // browsers never send the default port
    [InlineData("http://app.example")]          // another scheme is another origin
    [InlineData("https://APP.EXAMPLE")]         // browsers send lower case; exact means exact
    [InlineData("https://app.example, https://evil.example")]
    [InlineData("null")]
    [InlineData("")]
    [InlineData("http://localhost:5174")]
    public async Task Upgrade_FromOriginNotOnTheList_Is403(string origin)
    {
        await using var socket = await fixture.Server.ConnectRawAsync(bearer: fixture.User.Token, origin: origin);
        socket.AssertProblem(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("https://app.example")]
    [InlineData("http://localhost:5173")]
    public async Task Upgrade_FromAnExactOriginOnTheList_Is101(string origin)
    {
        await using var socket = await fixture.Server.ConnectRawAsync(bearer: fixture.User.Token, origin: origin);
        Assert.Equal(101, socket.Status);
    }

    [Fact]
    public async Task Upgrade_WithoutOriginHeader_IsJudgedByItsTokenAlone()
    {
        await using (var socket = await fixture.Server.ConnectRawAsync(bearer: fixture.User.Token)) Assert.Equal(101, socket.Status);
        await using (var socket = await fixture.Server.ConnectRawAsync()) socket.AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Upgrade_WithTheServersOwnOrigin_IsRefusedWhenAListIsConfigured()
    {
        await using var socket = await fixture.Server.ConnectRawAsync(bearer: fixture.User.Token, origin: $"http://{fixture.Server.BaseUri.Authority}");
        socket.AssertProblem(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Upgrade_FromABadOriginWithATicket_Is403_AndTheTicketIsNotSpent()
    {
        var ticket = await fixture.Server.TicketAsync(fixture.User.Token);
        await using (var refused = await fixture.Server.ConnectRawAsync($"ticket={ticket}", origin: "https://evil.example"))
            refused.AssertProblem(HttpStatusCode.Forbidden);
        // The page that bought it can still use it: a cross-site page cannot burn other people's tickets.
        await using var socket = await fixture.Server.ConnectRawAsync($"ticket={ticket}", origin: "https://app.example");
        Assert.Equal(101, socket.Status);
    }

    [Fact]
    public async Task Upgrade_WithNoListConfigured_AllowsOnlyTheServersOwnOrigin()
    {
        await using var server = await TestServer.StartAsync();
        var user = await server.CreateUserAsync(SignalStream.Protocol.Tier.Starter);
        await using (var own = await server.ConnectRawAsync(bearer: user.Token, origin: $"http://{server.BaseUri.Authority}"))
            Assert.Equal(101, own.Status);
        foreach (var origin in new[] { "https://evil.example", "null", $"https://{server.BaseUri.Authority}", $"http://{server.BaseUri.Authority}.evil.example", "http://localhost" })
        {
            await using var refused = await server.ConnectRawAsync(bearer: user.Token, origin: origin);
            refused.AssertProblem(HttpStatusCode.Forbidden);
        }
    }
}
