using Microsoft.Extensions.Options;
using SignalStream.Server.Auth;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Auth;

/// <summary>Tickets in a real Redis of the test's own; the key's TTL runs on Redis's clock, expiry on the store's.</summary>
public sealed class RedisTicketStoreSpecTests : TicketStoreSpec
{
    private OwnRedis _redis = null!;

    public override async Task InitializeAsync() => _redis = await OwnRedis.StartAsync();

    public override Task DisposeAsync()
    {
        _redis.Dispose();
        return Task.CompletedTask;
    }

    protected override ITicketStore CreateStore() => new RedisTicketStore(_redis.Connect(), Options.Create(new AuthOptions { TicketLifetime = Lifetime }), Clock);
}
