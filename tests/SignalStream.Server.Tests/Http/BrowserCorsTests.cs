using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Http;

/// <summary>
/// CORS on the endpoints pages call (token, ticket, the REST list), for exactly the origins of
/// <c>WebSockets:AllowedOrigins</c>: a preflight is answered and cached, the actual request carries
/// <c>Access-Control-Allow-Origin</c>, credentials are never allowed; any other origin gets no CORS header at
/// all, so the browser keeps the answer from the page. Admin and ingest are not for browsers.
/// </summary>
[Trait("Kind", "Security")]
public sealed class BrowserCorsTests(BrowserCorsTests.Fixture fixture) : IClassFixture<BrowserCorsTests.Fixture>
{
    private const string App = "https://app.example";

    public sealed class Fixture() : ServerFixture($"--WebSockets:AllowedOrigins={App},http://localhost:5173");

    [Theory]
    [InlineData(Paths.Signals, "GET")]
    [InlineData(Paths.Token, "POST")]
    [InlineData(Paths.WsTicket, "POST")]
    public async Task Preflight_FromAnAllowedOrigin_AllowsTheMethodAndHeaders_AndIsCached(string path, string method)
    {
        using var response = await PreflightAsync(path, App, method, "authorization,content-type");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(App, Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains(method, Header(response, "Access-Control-Allow-Methods"));
        var headers = Header(response, "Access-Control-Allow-Headers")!.ToLowerInvariant();
        Assert.Contains("authorization", headers);
        Assert.Contains("content-type", headers);
        Assert.Equal("600", Header(response, "Access-Control-Max-Age"));
        Assert.Null(Header(response, "Access-Control-Allow-Credentials"));
        Assert.Contains("Origin", response.Headers.Vary);
    }

    [Fact]
    public async Task ActualRequest_FromAnAllowedOrigin_CarriesTheOrigin_AndNoCredentials()
    {
        using var request = TestServer.UserRequest(HttpMethod.Get, Paths.Signals, fixture.User.Token);
        request.Headers.Add("Origin", "http://localhost:5173");
        using var response = await fixture.Server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("http://localhost:5173", Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(Header(response, "Access-Control-Allow-Credentials"));
        Assert.Contains("Retry-After", Header(response, "Access-Control-Expose-Headers"));
    }

    [Fact]
    public async Task PasswordLogin_FromAnAllowedOrigin_IsReadable()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Token)
        {
            Content = JsonContent.Create(new { username = fixture.User.Username, password = TestServer.Password }),
        };
        request.Headers.Add("Origin", App);
        using var response = await fixture.Server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(App, Header(response, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("https://app.example.evil")]
    [InlineData("https://APP.EXAMPLE")]
    [InlineData("http://app.example")]
    [InlineData("null")]
    public async Task Preflight_FromAnotherOrigin_GetsNoAllowHeaders(string origin)
    {
        using var response = await PreflightAsync(Paths.Signals, origin, "GET", "authorization");
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(Header(response, "Access-Control-Allow-Methods"));
        Assert.Null(Header(response, "Access-Control-Allow-Headers"));
    }

    [Fact]
    public async Task ActualRequest_FromAnotherOrigin_HasNoAllowOrigin()
    {
        using var request = TestServer.UserRequest(HttpMethod.Get, Paths.Signals, fixture.User.Token);
        request.Headers.Add("Origin", "https://evil.example");
        using var response = await fixture.Server.Http.SendAsync(request);
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Preflight_AskingForAnotherHeader_IsNotGrantedIt()
    {
        // The answer lists what is allowed; the browser, finding X-API-Key missing, refuses the request.
        using var response = await PreflightAsync(Paths.Signals, App, "GET", "authorization,x-api-key");
        Assert.DoesNotContain("x-api-key", Header(response, "Access-Control-Allow-Headers") ?? "", StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(Paths.AdminUsers, "POST")]
    [InlineData(Paths.Ingest, "POST")]
    public async Task KeyEndpoints_AnswerNoBrowser(string path, string method)
    {
        using var response = await PreflightAsync(path, App, method, "x-api-key,content-type");
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("https://*.example")]
    [InlineData("https://app.example/")]
    [InlineData("app.example")]
    public async Task Start_WithAWildcardOrAnythingButAnExactOrigin_IsRefused(string origin)
    {
        await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            await (await TestServer.StartAsync($"--WebSockets:AllowedOrigins:0={origin}")).DisposeAsync());
    }

    private async Task<HttpResponseMessage> PreflightAsync(string path, string origin, string method, string headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return await fixture.Server.Http.SendAsync(request);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
