using Microsoft.Extensions.Options;
using SignalStream.Server.Backplane;
using SignalStream.Server.Observability;
using StackExchange.Redis;

namespace SignalStream.Server.Cluster;

/// <summary>
/// The node's one Redis connection. It never stops the node from starting: while Redis is away,
/// the multiplexer keeps reconnecting in the background and every caller degrades to this node alone.
/// </summary>
public sealed class RedisConnection : IReadinessCheck, IDisposable
{
    public RedisConnection(IOptions<BackplaneOptions> options, IOptions<ClusterOptions> cluster)
    {
        var config = ConfigurationOptions.Parse(options.Value.ConnectionString
            ?? throw new InvalidOperationException("Backplane:ConnectionString is required for Redis"));
        config.AbortOnConnectFail = false;
        config.ConnectTimeout = 2000;
        config.SyncTimeout = 2000;
        config.AsyncTimeout = 2000;
        config.ClientName = cluster.Value.NodeId;
        Multiplexer = ConnectionMultiplexer.Connect(config);
    }

    public ConnectionMultiplexer Multiplexer { get; }
    public IDatabase Database => Multiplexer.GetDatabase();

    public string Name => "backplane";

    public Task<bool> IsReadyAsync(CancellationToken ct) => Task.FromResult(Multiplexer.IsConnected);

    public void Dispose() => Multiplexer.Dispose();
}
