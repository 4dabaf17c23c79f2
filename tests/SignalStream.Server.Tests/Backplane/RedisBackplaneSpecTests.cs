using Microsoft.Extensions.Logging.Abstractions;
using SignalStream.Server.Backplane;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Backplane;

/// <summary>Two nodes' <see cref="RedisBackplane"/>s on a real Redis of the test's own.</summary>
public sealed class RedisBackplaneSpecTests : BackplaneSpec
{
    private OwnRedis _redis = null!;

    protected override bool Carries => true;

    public override async Task InitializeAsync() => _redis = await OwnRedis.StartAsync();

    public override Task DisposeAsync()
    {
        _redis.Dispose();
        return Task.CompletedTask;
    }

    protected override Task<(ISignalBackplane A, ISignalBackplane B)> CreateNodesAsync() =>
        Task.FromResult<(ISignalBackplane, ISignalBackplane)>((Node("a"), Node("b")));

    private RedisBackplane Node(string id) => new(_redis.Connect(id), NullLogger<RedisBackplane>.Instance);

    protected override Task TakeMediumAwayAsync() => _redis.Server.KillAsync();
}
