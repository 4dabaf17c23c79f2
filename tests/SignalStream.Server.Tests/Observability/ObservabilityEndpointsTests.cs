using System.Net;
using System.Net.Http.Json;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Observability;

[Trait("Kind", "Functional")]
public sealed class ObservabilityEndpointsTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Health_LiveAndReady()
    {
        using var live = await _server.Http.GetAsync("/healthz");
        using var ready = await _server.Http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"storage\":true", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_WithAdminKey_CountsConnectionsByTier()
    {
        await using var server = await TestServer.StartAsync();
        var pro = await server.CreateUserAsync(Tier.Professional);
        var (a, _) = await server.ConnectWelcomedAsync(pro.Token);
        var (b, _) = await server.ConnectWelcomedAsync(pro.Token);
        await using var _a = a;
        await using var _b = b;
        using var response = await server.Http.SendAsync(TestServer.AdminRequest(HttpMethod.Get, Paths.Stats));
        var stats = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.StatsResponse))!;
        Assert.Equal(2, stats.TotalConnections);
        Assert.Equal(1, stats.ActiveUsers);
        Assert.Equal(1, stats.UsersByTier["PROFESSIONAL"]);
        Assert.Equal(0, stats.UsersByTier["STARTER"]);
        Assert.DoesNotContain(pro.Id, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
