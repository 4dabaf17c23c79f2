using SignalStream.Protocol;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using StackExchange.Redis;

namespace SignalStream.Server.Cluster;

/// <summary>
/// <c>/ws/stats</c> for the whole deployment: the sum over live nodes, each node listed. A user
/// connected to two nodes counts once on each. Without Redis, this node's own figures.
/// </summary>
public sealed class RedisClusterStats(ConnectionHub hub, ClusterPresence presence) : ClusterStats(hub)
{
    public override async Task<StatsResponse> GetAsync()
    {
        var local = await base.GetAsync();
        IReadOnlyList<NodeStats> nodes;
        try { nodes = await presence.ReadNodesAsync(); }
        catch (Exception e) when (e is RedisException or TimeoutException) { return local; }
        if (nodes.Count == 0) return local;

        Dictionary<string, int> Sum(Func<NodeStats, IReadOnlyDictionary<string, int>?> pick) =>
            local.UsersByTier.Keys.ToDictionary(tier => tier, tier => nodes.Sum(n => pick(n)?.GetValueOrDefault(tier) ?? 0));
        return local with
        {
            TotalConnections = nodes.Sum(n => n.TotalConnections),
            ActiveUsers = nodes.Sum(n => n.ActiveUsers),
            UsersByTier = Sum(n => n.UsersByTier),
            ConnectionsByTier = Sum(n => n.ConnectionsByTier),
            Nodes = nodes,
        };
    }
}
