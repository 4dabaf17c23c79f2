using System.Text.Json;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using SignalStream.Server.Streaming;
using StackExchange.Redis;

namespace SignalStream.Server.Cluster;

/// <summary>
/// This node's presence in Redis: a heartbeat key that expires when the node dies, its per-user
/// connection counts, and its stats. A crashed node's connections stop counting as soon as its
/// heartbeat expires. While Redis is away, limits fall back to this node's own count; when it
/// returns, the node rewrites its counts from its hub.
/// </summary>
public sealed class ClusterPresence(
    RedisConnection redis, ConnectionHub hub, IOptions<ClusterOptions> options, TimeProvider time, ILogger<ClusterPresence> logger)
    : BackgroundService, IConnectionLimiter
{
    // Sums the user's connections over live nodes (forgetting dead ones) and takes a slot when under the limit.
    private const string AcquireScript = """
        local total = 0
        for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          if redis.call('EXISTS', ARGV[4] .. node) == 1 then
            total = total + tonumber(redis.call('HGET', ARGV[5] .. node, ARGV[1]) or '0')
          else
            redis.call('SREM', KEYS[1], node)
            redis.call('DEL', ARGV[5] .. node)
            redis.call('HDEL', KEYS[2], node)
          end
        end
        if total >= tonumber(ARGV[2]) then return 0 end
        redis.call('HINCRBY', ARGV[5] .. ARGV[3], ARGV[1], 1)
        return 1
        """;

    private readonly string _node = options.Value.NodeId;
    private volatile bool _countsInRedis;

    private static string HeartbeatPrefix => RedisKeys.Heartbeat("");
    private static string ConnectionsPrefix => RedisKeys.Connections("");

    public async ValueTask<bool> TryAcquireAsync(string userId, int limit)
    {
        if (!_countsInRedis) return true; // Redis away: the hub's local count decides
        try
        {
            var taken = await redis.Database.ScriptEvaluateAsync(AcquireScript,
                [RedisKeys.Nodes, RedisKeys.Stats], [userId, limit, _node, HeartbeatPrefix, ConnectionsPrefix]);
            return (int)taken == 1;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.BackplaneUnavailable("connection limit", e);
            _countsInRedis = false;
            return true;
        }
    }

    public async ValueTask ReleaseAsync(string userId)
    {
        if (!_countsInRedis) return;
        try
        {
            await redis.Database.HashDecrementAsync(RedisKeys.Connections(_node), userId);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The count in Redis is now off by one: the next beat rewrites it from the hub.
            logger.BackplaneUnavailable("connection release", e);
            _countsInRedis = false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.NodeTimeout / 5, time);
        do
        {
            try
            {
                await BeatAsync();
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                if (_countsInRedis) logger.BackplaneUnavailable("heartbeat", e);
                _countsInRedis = false;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Connections still ending from here on must not write their counts back (a hash of a gone node).
        _countsInRedis = false;
        try
        {
            await redis.Database.KeyDeleteAsync([RedisKeys.Heartbeat(_node), RedisKeys.Connections(_node)]);
            await redis.Database.HashDeleteAsync(RedisKeys.Stats, _node);
            await redis.Database.SetRemoveAsync(RedisKeys.Nodes, _node);
        }
        catch (Exception e) when (e is RedisException or TimeoutException) { }
    }

    /// <summary>One heartbeat; the first (and the first after an outage) joins the shared count.</summary>
    internal async Task BeatAsync()
    {
        var db = redis.Database;
        var stats = hub.GetStats();
        var snapshot = JsonSerializer.Serialize(new NodeStats(_node, stats.TotalConnections, stats.ActiveUsers, time.GetUtcNow())
        {
            UsersByTier = ClusterStats.ByTier(stats.UsersByTier),
            ConnectionsByTier = ClusterStats.ByTier(stats.ConnectionsByTier),
        }, ProtocolJson.Default.NodeStats);
        await db.StringSetAsync(RedisKeys.Heartbeat(_node), "1", options.Value.NodeTimeout);
        await db.SetAddAsync(RedisKeys.Nodes, _node);
        await db.HashSetAsync(RedisKeys.Stats, _node, snapshot);
        if (!_countsInRedis)
        {
            // First beat, or Redis came back: what Redis remembers of us may be stale, so write it anew.
            var counts = hub.Snapshot().GroupBy(c => c.UserId).Select(g => new HashEntry(g.Key, g.Count())).ToArray();
            await db.KeyDeleteAsync(RedisKeys.Connections(_node));
            if (counts.Length > 0) await db.HashSetAsync(RedisKeys.Connections(_node), counts);
            _countsInRedis = true;
            logger.NodeJoined(_node);
        }
    }

    /// <summary>Stats of every live node, this one included.</summary>
    public async Task<IReadOnlyList<NodeStats>> ReadNodesAsync()
    {
        var db = redis.Database;
        var all = await db.HashGetAllAsync(RedisKeys.Stats);
        var nodes = new List<NodeStats>();
        foreach (var entry in all)
        {
            if (!await db.KeyExistsAsync(RedisKeys.Heartbeat(entry.Name.ToString()))) continue;
            if (JsonSerializer.Deserialize(entry.Value.ToString(), ProtocolJson.Default.NodeStats) is { } node) nodes.Add(node);
        }
        return nodes;
    }
}
