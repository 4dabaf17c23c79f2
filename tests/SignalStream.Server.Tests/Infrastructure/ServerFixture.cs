using Microsoft.AspNetCore.Builder;
using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// One server shared by the tests of a class (xunit makes a class instance per test, so a server per
/// instance costs a start and a login each time). Tests that change shared state use their own
/// users; tests that need other settings start their own server.
/// </summary>
public abstract class ServerFixture(params string[] settings) : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;
    /// <summary>A STARTER user for tests that only need someone.</summary>
    public TestUser User { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(Configure, settings);
        User = await Server.CreateUserAsync(Tier.Starter);
    }

    /// <summary>The last word on the server's services (a fake clock), as <see cref="TestServer.StartAsync(Action{WebApplicationBuilder}, string[])"/>.</summary>
    protected virtual void Configure(WebApplicationBuilder builder) { }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
