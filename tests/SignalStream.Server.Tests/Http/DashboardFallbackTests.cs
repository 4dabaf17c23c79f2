using System.Net;
using System.Text.Json.Nodes;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Http;

/// <summary>Only dashboard routes fall back to the page; a path under /api or /ws that does not exist is a 404 problem.</summary>
[Trait("Kind", "Functional")]
public sealed class DashboardFallbackTests(DashboardFallbackTests.Fixture fixture) : IClassFixture<DashboardFallbackTests.Fixture>
{
    public sealed class Fixture() : ServerFixture();

    [Theory]
    [InlineData("GET", "/api/nope")]
    [InlineData("POST", "/api/nope")]
    [InlineData("DELETE", "/api/v1/signals/extra/segments")]
    [InlineData("PUT", "/api")]
    [InlineData("GET", "/api/")]
    [InlineData("GET", "/ws/nope")]
    [InlineData("PATCH", "/ws")]
    [InlineData("GET", "/api/auth/token")] // a path that exists, asked with a method it does not take
    public async Task UnknownApiOrStreamPath_Answers404Problem_WhateverTheMethod(string method, string path)
    {
        using var response = await fixture.Server.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(404, (int)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/signals/BTC-USD")]
    [InlineData("/apis-are-not-api")]
    public async Task DashboardRoute_FallsBackToThePage(string path)
    {
        using var response = await fixture.Server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }
}
