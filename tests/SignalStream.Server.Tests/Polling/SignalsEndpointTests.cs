using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Polling;

[Trait("Kind", "Functional")]
public sealed class SignalsEndpointTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private readonly List<(long Seq, Tier MinTier)> _published = [];

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        foreach (var tier in new[] { Tier.Starter, Tier.Professional, Tier.Starter, Tier.Institutional, Tier.Starter, Tier.Professional })
            _published.Add((await _server.PublishAsync(minTier: tier), tier));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(Tier.Starter)]
    [InlineData(Tier.Professional)]
    [InlineData(Tier.Institutional)]
    public async Task List_NewestFirst_OnlyWhatTheTierMaySee(Tier tier)
    {
        var user = await _server.CreateUserAsync(tier);
        var page = await ListAsync(user.Token, "limit=500");
        var expected = _published.Where(p => TierRule.CanSee(tier, p.MinTier)).Select(p => p.Seq).Reverse();
        Assert.Equal(expected, page.Signals.Select(s => s.Seq));
        Assert.Equal(_published[^1].Seq, page.LastSeq);
    }

    [Fact]
    public async Task List_AfterSeq_OldestFirst_GreaterThanIt()
    {
        var user = await _server.CreateUserAsync(Tier.Institutional);
        var page = await ListAsync(user.Token, $"after_seq={_published[2].Seq}&limit=2");
        Assert.Equal(new[] { _published[3].Seq, _published[4].Seq }, page.Signals.Select(s => s.Seq));
    }

    [Fact]
    public async Task List_DefaultLimitIsTen_AndPremiumOnlyOmitsOpenSignals()
    {
        var user = await _server.CreateUserAsync(Tier.Institutional);
        for (var i = 0; i < 10; i++) await _server.PublishAsync();
        Assert.Equal(10, (await ListAsync(user.Token, "")).Signals.Length);
        var premium = await ListAsync(user.Token, "premium_only=true&limit=500");
        Assert.NotEmpty(premium.Signals);
        Assert.All(premium.Signals, s => Assert.True(s.Premium && s.MinTier >= Tier.Professional));
    }

    [Fact]
    public async Task List_AsStarterWithPremiumOnly_IsEmpty()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        Assert.Empty((await ListAsync(user.Token, "premium_only=true&limit=500")).Signals);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("after_seq=-1", "after_seq")]
    [InlineData("premium_only=maybe", "premium_only")]
    public async Task List_BadQuery_Returns400NamingTheParameter(string query, string field)
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        using var request = TestServer.UserRequest(HttpMethod.Get, $"{Paths.Signals}?{query}", user.Token);
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task List_WithoutToken_Returns401Problem()
    {
        using var response = await _server.Http.GetAsync(Paths.Signals);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private async Task<SignalPage> ListAsync(string token, string query)
    {
        using var request = TestServer.UserRequest(HttpMethod.Get, $"{Paths.Signals}?{query}", token);
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.SignalPage))!;
    }
}
