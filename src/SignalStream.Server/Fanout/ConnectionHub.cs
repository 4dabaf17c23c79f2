using System.Threading.Channels;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;
using SignalStream.Server.Streaming;

namespace SignalStream.Server.Fanout;

/// <summary>
/// This node's live connections, spread over fan-out shards (several per core). A broadcast only hands
/// the shared frame to each shard and returns, so ingest never waits for the fan-out; each shard
/// walks its own connections on its own loop, in seq order, and offers the frame (written at once
/// to an idle socket, queued for a busy one), so the cores share the work and one slow socket
/// cannot hold anyone up. Membership (per-user limits, tier counts) sits under one lock.
/// </summary>
public enum HubEntry { Added, UserAtLimit, AtCapacity }

public sealed class ConnectionHub : ISignalFanout, IDisposable
{
    /// <summary>
    /// A shard's loop makes the sends itself (in io_uring batches, or a <c>send()</c> each), so its passes are long: several per core
    /// keep a pass short and the cores busy while one loop waits for its time slice on a shared machine.
    /// </summary>
    private const int ShardsPerCore = 4;
    /// <summary>
    /// Every signal wakes each shard that has connections, so a few connections share one shard: the next shard
    /// opens once the open ones hold this many each (nine subscribers wake one loop per signal, not eight).
    /// </summary>
    private const int ConnectionsPerShardBeforeOpeningAnother = 64;

    private readonly ServerMetrics _metrics;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<StreamConnection>> _byUser = new(StringComparer.Ordinal);
    private readonly int[] _byTier = new int[3];
    private readonly FanoutShard[] _shards;
    private readonly string _ringUnavailable = ""; // why io_uring was unavailable
    private int _count;
    private int _nextShard;
    private long _lastSeq;

    /// <param name="batchedSends">Each shard hands a pass's writes to the kernel in batches (<see cref="SendBatch"/>)
    /// where io_uring is available; <see cref="BatchedSends"/> says whether it was.</param>
    public ConnectionHub(ServerMetrics metrics, bool batchedSends)
    {
        _metrics = metrics;
        _shards = new FanoutShard[Math.Clamp(ShardsPerCore * Environment.ProcessorCount, 1, 64)];
        for (var i = 0; i < _shards.Length; i++)
            _shards[i] = new FanoutShard(batchedSends ? SendBatch.TryCreate(out _ringUnavailable) : null);
    }

    /// <summary>Writes with a <c>send()</c> each.</summary>
    public ConnectionHub(ServerMetrics metrics) : this(metrics, batchedSends: false) { }

    public ConnectionHub(ServerMetrics metrics, IOptions<WebSocketsOptions> options, ILogger<ConnectionHub> logger)
        : this(metrics, options.Value.BatchedSends)
    {
        if (!options.Value.BatchedSends) return;
        if (BatchedSends) logger.BatchedSends(_shards.Length, SendBatch.Entries);
        else logger.BatchedSendsUnavailable(_ringUnavailable);
    }

    /// <summary>True when the shards batch their writes (io_uring); false: a <c>send()</c> per write.</summary>
    public bool BatchedSends => _shards[0].Batched;

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
            var open = Math.Min(_count / ConnectionsPerShardBeforeOpeningAnother + 1, _shards.Length);
            _nextShard = (_nextShard + 1) % open;
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
        foreach (var shard in _shards) shard.Post(new ShardItem(frame, To: null));
    }

    /// <summary>
    /// Sends <paramref name="frame"/> to <paramref name="connection"/> once its shard has offered it every signal
    /// broadcast before this call: a <c>pong</c> follows the signals published before its <c>ping</c>.
    /// </summary>
    public void SendAfterBroadcasts(StreamConnection connection, OutboundFrame frame)
    {
        if (connection.HubIndex < 0) connection.Send(frame); // not in the hub (yet, or any more): nothing to follow
        else _shards[connection.Shard].Post(new ShardItem(frame, connection));
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

    /// <summary>Stops the shards' loops (at host shutdown), which close their rings.</summary>
    public void Dispose()
    {
        foreach (var shard in _shards) shard.Complete();
    }

    private void CountTier(Tier tier, int delta)
    {
        _byTier[(int)tier] += delta;
        _metrics.SetConnections(tier, _byTier[(int)tier]);
    }

    /// <summary>A broadcast signal (<paramref name="To"/> null), or a frame for one connection, in the shard's order.</summary>
    private readonly record struct ShardItem(OutboundFrame Frame, StreamConnection? To);

    /// <summary>
    /// One slice of the connections and the loop that offers them each broadcast frame. The lock covers only
    /// membership and which signals were offered: a pass copies the members under it and makes its offers
    /// (and their <c>send()</c>s) outside, so a connection joining or leaving never waits for a pass, and
    /// neither does the hub's membership lock held around that.
    /// </summary>
    private sealed class FanoutShard
    {
        private readonly Lock _sync = new();
        private readonly List<StreamConnection> _connections = [];
        private readonly Channel<ShardItem> _items = Channel.CreateUnbounded<ShardItem>(new UnboundedChannelOptions { SingleReader = true });
        private readonly SendBatch? _batch;
        private StreamConnection[] _pass = [];
        private long _lastOffered;

        public FanoutShard(SendBatch? batch)
        {
            _batch = batch;
            _ = Task.Run(RunAsync);
        }

        public bool Batched => _batch is not null;

        /// <summary>Ends the loop once what was posted is offered; the loop then closes its ring.</summary>
        public void Complete() => _items.Writer.TryComplete();

        public void StartAt(long lastSeq)
        {
            lock (_sync) _lastOffered = Math.Max(_lastOffered, lastSeq);
        }

        /// <summary>
        /// Answers the last seq taken for a pass here: the connection is offered every later one. A pass under
        /// way offers only to the members it copied, so the connection misses nothing and gets nothing twice.
        /// </summary>
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

        public void Post(ShardItem item)
        {
            if (item.To is null && NotedWhileEmpty(item.Frame)) return;
            _items.Writer.TryWrite(item);
        }

        /// <summary>
        /// A shard without connections has no one to offer a signal to: it notes the seq (what a joiner starts
        /// after) and is not woken. Signals still queued from before are then below it and skipped: they were
        /// for members that have left, and a joiner starts after this one.
        /// </summary>
        private bool NotedWhileEmpty(OutboundFrame frame)
        {
            lock (_sync)
            {
                if (_connections.Count > 0) return false;
                _lastOffered = Math.Max(_lastOffered, frame.Seq);
            }
            Skipped(frame);
            return true;
        }

        /// <summary>
        /// Offers each frame, in seq order, to every connection. When signals arrive faster than the loop
        /// gets round, it takes up to a batch of them at once, so each socket gets them in one write: the
        /// busier the shard, the fewer writes per delivery.
        /// </summary>
        private async Task RunAsync()
        {
            try { await OfferAllAsync(); }
            finally { _batch?.Dispose(); }
        }

        private async Task OfferAllAsync()
        {
            var reader = _items.Reader;
            var run = new List<OutboundFrame>(StreamConnection.MaxBatch);
            while (await reader.WaitToReadAsync())
            {
                bool more;
                do
                {
                    ShardItem directed;
                    var members = 0;
                    lock (_sync)
                    {
                        more = TakeRun(reader, run, out directed);
                        if (run.Count > 0) members = CopyMembers();
                    }
                    directed.To?.Send(directed.Frame);
                    if (run.Count == 0) continue;
                    var pass = _pass.AsSpan(0, members);
                    if (run is [{ Trace: { } trace } traced]) OfferCounted(pass, traced, trace, _batch);
                    else OfferRun(pass, run, _batch);
                    run.Clear();
                    pass.Clear(); // a member that left is not kept alive by the next pass's array
                } while (more);
            }
        }

        /// <summary>
        /// Under the lock: the next signals not offered yet, up to a batch, or the next frame for one connection.
        /// A traced signal goes alone, so its offers can be counted. True when more may be waiting.
        /// </summary>
        private bool TakeRun(ChannelReader<ShardItem> reader, List<OutboundFrame> run, out ShardItem directed)
        {
            directed = default;
            while (run.Count < StreamConnection.MaxBatch && reader.TryPeek(out var item))
            {
                var alone = item.To is not null || item.Frame.Trace is not null;
                if (alone && run.Count > 0) return true;
                reader.TryRead(out _);
                if (item.To is not null)
                {
                    directed = item;
                    return true;
                }
                var frame = item.Frame;
                if (frame.Seq <= _lastOffered)
                {
                    Skipped(frame); // offered already
                    continue;
                }
                _lastOffered = frame.Seq;
                run.Add(frame);
                if (alone) return true;
            }
            return run.Count == StreamConnection.MaxBatch;
        }

        /// <summary>A signal this shard offers to no one: nothing to count, but its fan-out span must still close.</summary>
        private static void Skipped(OutboundFrame frame) => frame.Trace?.ShardDone([0, 0, 0], 0);

        /// <summary>Under the lock: the members into the pass's array (kept by the shard, grown as needed).</summary>
        private int CopyMembers()
        {
            if (_pass.Length < _connections.Count) _pass = new StreamConnection[Math.Max(_connections.Count, _pass.Length * 2)];
            _connections.CopyTo(_pass);
            return _connections.Count;
        }

        private static void OfferRun(ReadOnlySpan<StreamConnection> pass, List<OutboundFrame> run, SendBatch? batch)
        {
            var last = run.Count - 1;
            foreach (var connection in pass)
            {
                if (batch is { IsFull: true }) batch.Submit();
                for (var i = 0; i <= last; i++) connection.Offer(run[i], send: i == last, batch);
            }
            batch?.Submit();
        }

        /// <summary>The same offers, counted for the signal's fan-out span.</summary>
        private static void OfferCounted(ReadOnlySpan<StreamConnection> pass, OutboundFrame frame, FanoutTrace trace, SendBatch? batch)
        {
            Span<int> recipients = stackalloc int[3];
            var dropped = 0;
            foreach (var connection in pass)
            {
                if (batch is { IsFull: true }) batch.Submit();
                switch (connection.Offer(frame, send: true, batch))
                {
                    case OfferResult.Queued: recipients[(int)connection.Tier]++; break;
                    case OfferResult.Dropped: dropped++; break;
                }
            }
            batch?.Submit();
            trace.ShardDone(recipients, dropped);
        }
    }
}
