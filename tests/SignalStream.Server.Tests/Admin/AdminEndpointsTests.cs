using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Admin;

[Trait("Kind", "Functional")]
public sealed class AdminEndpointsTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Admin_CreateUser_201_ThenSameName409_AndBadBody400()
    {
        using (var created = await _server.Http.SendAsync(TestServer.AdminRequest(HttpMethod.Post, Paths.AdminUsers, new { username = "alice", password = "long enough password", tier = "PROFESSIONAL" })))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var user = (await created.Content.ReadFromJsonAsync(ProtocolJson.Default.UserResponse))!;
            Assert.Equal(("alice", Tier.Professional, false), (user.Username, user.Tier, user.Disabled));
        }
        using (var again = await _server.Http.SendAsync(TestServer.AdminRequest(HttpMethod.Post, Paths.AdminUsers, new { username = "ALICE", password = "long enough password", tier = "STARTER" })))
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        using (var bad = await _server.Http.SendAsync(TestServer.AdminRequest(HttpMethod.Post, Paths.AdminUsers, new { username = "bob", password = "short", tier = "GOLD" })))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var text = await bad.Content.ReadAsStringAsync();
            Assert.Contains("password", text, StringComparison.Ordinal);
            Assert.Contains("tier", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Admin_UpdateListAndGet_ReflectTheChange_UnknownUser404()
    {
        var user = await _server.CreateUserAsync(Tier.Starter);
        using (var changed = await _server.UpdateUserAsync(user.Id, new { tier = "INSTITUTIONAL", password = "a brand new password" }))
            Assert.Equal(Tier.Institutional, (await changed.Content.ReadFromJsonAsync(ProtocolJson.Default.UserResponse))!.Tier);
        await _server.LoginAsync(user.Username, "a brand new password");

        using var list = await _server.Http.SendAsync(TestServer.AdminRequest(HttpMethod.Get, Paths.AdminUsers));
        var users = (await list.Content.ReadFromJsonAsync(ProtocolJson.Default.UserResponseArray))!;
        Assert.Contains(users, u => u.UserId == user.Id && u.Tier == Tier.Institutional);
        Assert.DoesNotContain("password", await list.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        using var missing = await _server.UpdateUserAsync("no-such-user", new { tier = "STARTER" });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var empty = await _server.UpdateUserAsync(user.Id, new { });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
    }

    [Fact]
    public async Task Admin_WithoutAdminKey_Returns401_EvenWithAUserToken()
    {
        var user = await _server.CreateUserAsync(Tier.Institutional);
        using var request = new HttpRequestMessage(HttpMethod.Get, Paths.AdminUsers);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
        request.Headers.Add("X-API-Key", TestServer.PublisherKey);
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
