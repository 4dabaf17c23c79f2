using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SignalStream.Server.Cluster;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using SignalStream.Server.Streaming;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Streaming;

/// <summary>Three nodes' <see cref="ClusterPresence"/> on a real Redis of the test's own, each joined by its first heartbeat.</summary>
public sealed class ClusterConnectionLimiterSpecTests : ConnectionLimiterSpec
{
    private OwnRedis _redis = null!;
    private readonly List<ClusterPresence> _presences = [];

    public override async Task InitializeAsync()
    {
        _redis = await OwnRedis.StartAsync();
        await base.InitializeAsync();
    }

    public override Task DisposeAsync()
    {
        _redis.Dispose();
        return Task.CompletedTask;
    }

    protected override async Task<IReadOnlyList<IConnectionLimiter>> CreateDeploymentAsync()
    {
        foreach (var id in new[] { "n1", "n2", "n3" })
        {
            var presence = new ClusterPresence(_redis.Connect(id), new ConnectionHub(new ServerMetrics()),
                Options.Create(new ClusterOptions { NodeId = id }), TimeProvider.System, NullLogger<ClusterPresence>.Instance);
            await presence.BeatAsync();
            _presences.Add(presence);
        }
        return _presences;
    }

    [Fact]
    public async Task ADeadNodesSlots_StopCounting_OnceItsHeartbeatIsGone()
    {
        var (alive, dying) = (_presences[0], _presences[1]);
        Assert.True(await dying.TryAcquireAsync("dave", 2));
        Assert.True(await dying.TryAcquireAsync("dave", 2));
        Assert.False(await alive.TryAcquireAsync("dave", 2));

        // What the heartbeat's expiry does when a node dies without a word.
        await _redis.Connect("observer").Database.KeyDeleteAsync(RedisKeys.Heartbeat("n2"));

        Assert.True(await alive.TryAcquireAsync("dave", 2));
        Assert.True(await alive.TryAcquireAsync("dave", 2));
        Assert.False(await alive.TryAcquireAsync("dave", 2));
    }
}
