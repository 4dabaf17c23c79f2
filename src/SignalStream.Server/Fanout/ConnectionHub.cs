using System.Threading.Channels;
using SignalStream.Protocol;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Fanout;

/// <summary>
/// This node's live connections, spread over fan-out shards (several per core). A broadcast only hands
/// the shared frame to each shard and returns, so ingest never waits for the fan-out; each shard
/// walks its own connections on its own loop, in seq order, and offers the frame (written at once
/// to an idle socket, queued for a busy one), so the cores share the work and one slow socket
/// cannot hold anyone up. Membership (per-user limits, tier counts) sits under one lock.
/// </summary>
public enum HubEntry { Added, UserAtLimit, AtCapacity }

public sealed class ConnectionHub : ISignalFanout
{
    /// <summary>
    /// A shard's loop makes the sends itself (a <c>send()</c> each), so its passes are long: several per core
    /// keep a pass short and the cores busy while one loop waits for its time slice on a shared machine.
    /// </summary>
    private const int ShardsPerCore = 4;

    private readonly ServerMetrics _metrics;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<StreamConnection>> _byUser = new(StringComparer.Ordinal);
    private readonly int[] _byTier = new int[3];
    private readonly FanoutShard[] _shards;
    private int _count;
    private int _nextShard;
    private long _lastSeq;

    public ConnectionHub(ServerMetrics metrics)
    {
        _metrics = metrics;
        _shards = [.. Enumerable.Range(0, Math.Clamp(ShardsPerCore * Environment.ProcessorCount, 1, 64)).Select(_ => new FanoutShard())];
    }

    /// <summary>The newest seq broadcast (or stored, at start).</summary>
    public long LastSeq => Interlocked.Read(ref _lastSeq);

    public int Count => Volatile.Read(ref _count);

    public void StartAt(long lastSeq)
    {
        lock (_gate)
        {
            _lastSeq = Math.Max(_lastSeq, lastSeq);
            foreach (var shard in _shards) shard.StartAt(lastSeq);
        }
    }

    /// <summary>
    /// Adds a connection unless its user already holds <paramref name="perUserLimit"/> here, or the
    /// hub <paramref name="capacity"/>: checked under the membership lock, so a burst of admissions
    /// cannot overshoot either. Answers the seq the connection starts after: every later signal
    /// will be offered to it.
    /// </summary>
    public HubEntry TryAdd(StreamConnection connection, int perUserLimit, int capacity, out long lastSeq)
    {
        lock (_gate)
        {
            lastSeq = 0;
            if (_count >= capacity) return HubEntry.AtCapacity;
            if (!_byUser.TryGetValue(connection.UserId, out var mine)) _byUser[connection.UserId] = mine = [];
            if (mine.Count >= perUserLimit) return HubEntry.UserAtLimit;
            mine.Add(connection);
            _nextShard = (_nextShard + 1) % _shards.Length;
            lastSeq = _shards[_nextShard].Add(connection, _nextShard);
            _count++;
            CountTier(connection.Tier, +1);
        }
        _metrics.Connects.Inc();
        return HubEntry.Added;
    }

    public void Remove(StreamConnection connection)
    {
        lock (_gate)
        {
            if (!_shards[connection.Shard].Remove(connection)) return;
            if (_byUser.TryGetValue(connection.UserId, out var mine))
            {
                mine.Remove(connection);
                if (mine.Count == 0) _byUser.Remove(connection.UserId);
            }
            _count--;
            CountTier(connection.Tier, -1);
        }
    }

    /// <summary>Hands a signal to every shard (called as <see cref="ISignalFanout"/> promises).</summary>
    public void Broadcast(OutboundFrame frame)
    {
        if (frame.Seq > LastSeq) Interlocked.Exchange(ref _lastSeq, frame.Seq);
        frame.Trace?.ExpectShards(_shards.Length);
        foreach (var shard in _shards) shard.Post(frame);
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
        lock (_gate) return [.. _byUser.Values.SelectMany(mine => mine)];
    }

    /// <summary>The live connections into a list the caller keeps: a sweep every second allocates no array of them.</summary>
    public void CopyTo(List<StreamConnection> into)
    {
        into.Clear();
        lock (_gate)
        {
            into.EnsureCapacity(_count);
            foreach (var mine in _byUser.Values) into.AddRange(mine);
        }
    }

    public HubStats GetStats()
    {
        lock (_gate)
        {
            var usersByTier = new int[3];
            foreach (var mine in _byUser.Values) usersByTier[(int)mine[0].Tier]++;
            return new HubStats(_count, _byUser.Count, usersByTier, [.. _byTier], LastSeq);
        }
    }

    private void CountTier(Tier tier, int delta)
    {
        _byTier[(int)tier] += delta;
        _metrics.SetConnections(tier, _byTier[(int)tier]);
    }

    /// <summary>One slice of the connections and the loop that offers them each broadcast frame.</summary>
    private sealed class FanoutShard
    {
        private readonly Lock _sync = new();
        private readonly List<StreamConnection> _connections = [];
        private readonly Channel<OutboundFrame> _frames = Channel.CreateUnbounded<OutboundFrame>(new UnboundedChannelOptions { SingleReader = true });
        private long _lastOffered;

        public FanoutShard() => _ = Task.Run(RunAsync);

        public void StartAt(long lastSeq)
        {
            lock (_sync) _lastOffered = Math.Max(_lastOffered, lastSeq);
        }

        /// <summary>Answers the last seq offered here: the connection is offered every later one.</summary>
        public long Add(StreamConnection connection, int shard)
        {
            lock (_sync)
            {
                connection.Shard = shard;
                connection.HubIndex = _connections.Count;
                _connections.Add(connection);
                return _lastOffered;
            }
        }

        public bool Remove(StreamConnection connection)
        {
            lock (_sync)
            {
                var index = connection.HubIndex;
                if (index < 0) return false;
                var last = _connections[^1];
                _connections[index] = last;
                last.HubIndex = index;
                _connections.RemoveAt(_connections.Count - 1);
                connection.HubIndex = -1;
                return true;
            }
        }

        public void Post(OutboundFrame frame) => _frames.Writer.TryWrite(frame);

        /// <summary>
        /// Offers each frame, in seq order, to every connection. When signals arrive faster than the loop
        /// gets round, it takes up to a batch of them at once, so each socket gets them in one write: the
        /// busier the shard, the fewer writes per delivery.
        /// </summary>
        private async Task RunAsync()
        {
            var reader = _frames.Reader;
            var run = new List<OutboundFrame>(StreamConnection.MaxBatch);
            while (await reader.WaitToReadAsync())
            {
                bool full;
                do
                {
                    lock (_sync) // per run, not per burst: a connection being added waits for one run at most
                    {
                        full = TakeRun(reader, run);
                        OfferRun(run);
                    }
                } while (full);
            }
        }

        /// <summary>Under the lock: the next frames not offered yet, up to a batch (true when it stopped there).</summary>
        private bool TakeRun(ChannelReader<OutboundFrame> reader, List<OutboundFrame> run)
        {
            while (run.Count < StreamConnection.MaxBatch && reader.TryRead(out var frame))
            {
                if (frame.Seq <= _lastOffered)
                {
                    frame.Trace?.ShardDone([0, 0, 0], 0); // offered already: nothing to count, but the span must close
                    continue;
                }
                _lastOffered = frame.Seq;
                if (frame.Trace is { } trace)
                {
                    OfferRun(run); // a traced signal goes alone, its offers counted
                    OfferCounted(frame, trace);
                    continue;
                }
                run.Add(frame);
            }
            return run.Count == StreamConnection.MaxBatch;
        }

        private void OfferRun(List<OutboundFrame> run)
        {
            if (run.Count == 0) return;
            var last = run.Count - 1;
            foreach (var connection in _connections)
                for (var i = 0; i <= last; i++) connection.Offer(run[i], send: i == last);
            run.Clear();
        }

        /// <summary>The same offers, counted for the signal's fan-out span.</summary>
        private void OfferCounted(OutboundFrame frame, FanoutTrace trace)
        {
            Span<int> recipients = stackalloc int[3];
            var dropped = 0;
            foreach (var connection in _connections)
            {
                switch (connection.Offer(frame))
                {
                    case OfferResult.Queued: recipients[(int)connection.Tier]++; break;
                    case OfferResult.Dropped: dropped++; break;
                }
            }
            trace.ShardDone(recipients, dropped);
        }
    }
}
