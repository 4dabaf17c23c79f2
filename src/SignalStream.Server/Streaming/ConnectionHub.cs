using SignalStream.Protocol;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Streaming;

/// <summary>
/// This node's live connections. A broadcast walks a plain list under one lock and only offers
/// the shared frame to each connection's queue, so its cost is a few nanoseconds per connection
/// and one slow socket cannot hold it up.
/// </summary>
public sealed class ConnectionHub(ServerMetrics metrics)
{
    private readonly Lock _gate = new();
    private readonly List<StreamConnection> _connections = [];
    private readonly Dictionary<string, List<StreamConnection>> _byUser = new(StringComparer.Ordinal);
    private readonly int[] _byTier = new int[3];
    private long _lastSeq;

    /// <summary>The newest seq broadcast (or stored, at start).</summary>
    public long LastSeq => Interlocked.Read(ref _lastSeq);

    public int Count
    {
        get { lock (_gate) return _connections.Count; }
    }

    public void StartAt(long lastSeq)
    {
        lock (_gate) _lastSeq = Math.Max(_lastSeq, lastSeq);
    }

    /// <summary>Adds a connection unless its user already holds <paramref name="perUserLimit"/>; answers the seq it starts after.</summary>
    public bool TryAdd(StreamConnection connection, int perUserLimit, out long lastSeq)
    {
        lock (_gate)
        {
            lastSeq = _lastSeq;
            if (!_byUser.TryGetValue(connection.UserId, out var mine)) _byUser[connection.UserId] = mine = [];
            if (mine.Count >= perUserLimit) return false;
            mine.Add(connection);
            connection.HubIndex = _connections.Count;
            _connections.Add(connection);
            CountTier(connection.Tier, +1);
        }
        metrics.Connects.Inc();
        return true;
    }

    public void Remove(StreamConnection connection)
    {
        lock (_gate)
        {
            var index = connection.HubIndex;
            if (index < 0) return;
            var last = _connections[^1];
            _connections[index] = last;
            last.HubIndex = index;
            _connections.RemoveAt(_connections.Count - 1);
            connection.HubIndex = -1;
            if (_byUser.TryGetValue(connection.UserId, out var mine))
            {
                mine.Remove(connection);
                if (mine.Count == 0) _byUser.Remove(connection.UserId);
            }
            CountTier(connection.Tier, -1);
        }
    }

    /// <summary>Offers a signal to every connection. Called in seq order, one signal at a time.</summary>
    public void Broadcast(OutboundFrame frame)
    {
        lock (_gate)
        {
            if (frame.Seq > _lastSeq) _lastSeq = frame.Seq;
            foreach (var connection in _connections) connection.Offer(frame);
        }
    }

    /// <summary>Applies a user's new tier or disable to each of their connections here.</summary>
    public bool ApplyUserChange(UserRecord user)
    {
        lock (_gate)
        {
            if (!_byUser.TryGetValue(user.Id, out var mine)) return false;
            var changed = false;
            foreach (var connection in mine)
            {
                var before = connection.Tier;
                if (!connection.ApplyUser(user)) continue;
                changed = true;
                CountTier(before, -1);
                CountTier(connection.Tier, +1);
            }
            return changed;
        }
    }

    public int ConnectionsOf(string userId)
    {
        lock (_gate) return _byUser.TryGetValue(userId, out var mine) ? mine.Count : 0;
    }

    public StreamConnection[] Snapshot()
    {
        lock (_gate) return [.. _connections];
    }

    public HubStats GetStats()
    {
        lock (_gate)
        {
            var usersByTier = new int[3];
            foreach (var mine in _byUser.Values) usersByTier[(int)mine[0].Tier]++;
            return new HubStats(_connections.Count, _byUser.Count, usersByTier, [.. _byTier], _lastSeq);
        }
    }

    private void CountTier(Tier tier, int delta)
    {
        _byTier[(int)tier] += delta;
        metrics.SetConnections(tier, _byTier[(int)tier]);
    }
}

/// <summary>A consistent count of this node's connections.</summary>
public sealed record HubStats(int TotalConnections, int ActiveUsers, int[] UsersByTier, int[] ConnectionsByTier, long LastSeq);
