using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Protocol;
using SignalStream.Server.Backplane;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;
using SignalStream.Server.Tests.Backplane;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Fanout;

/// <summary>
/// The feed's spec: whatever the backplane does within its interface (here the
/// <see cref="LossyBackplane"/>: loss, doubles, reordering), the hub gets what
/// <see cref="ISignalFanout"/> promises: every signal once, in seq order, no gap, one call at a time.
/// The gaps are filled from a real store (SQLite).
/// </summary>
[Trait("Kind", "Functional")]
public sealed class SignalFeedSpecTests : IAsyncLifetime
{
    private const int PerNode = 300;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N"));
    private SqliteSignalStore _store = null!;

    public async Task InitializeAsync()
    {
        var db = new SqliteDatabase(Options.Create(new StorageOptions { HistoryLimit = 100_000 }), Options.Create(new DataOptions { Directory = _directory }));
        _store = new SqliteSignalStore(db);
        await _store.InitializeAsync(default);
    }

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(13)]
    public async Task OverALossyReorderingDoublingBackplane_TheHubGetsEverySignalOnce_InOrder_WithoutGaps(int seed)
    {
        var medium = new LossyBackplane(seed);
        var here = medium.Node();
        var hub = new RecordingFanout();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var feed = new SignalFeed(_store, here, hub, new RecentFrames(1024), new ServerMetrics(), clock, NullLogger<SignalFeed>.Instance);
        feed.StartAt(await _store.GetBoundsAsync(default));
        await feed.StartAsync(default);
        try
        {
            // Three nodes ingest at once. This one hands its signals to the feed and publishes them, as
            // IngestService does; the other two only publish, so the feed learns of theirs from the backplane.
            await Task.WhenAll(
                IngestAsync("here", async signal =>
                {
                    await feed.DeliverAsync(signal, 0, remoteOrigin: null, default);
                    await here.PublishAsync(signal, clock.GetUtcNow());
                }),
                IngestAsync("x", PublishOn(medium.Node(), clock)),
                IngestAsync("y", PublishOn(medium.Node(), clock)));

            // What the backplane lost or still holds at the end, the once-a-second look at history brings.
            clock.Advance(SignalFeed.CatchUpInterval);
            await Eventually.TrueAsync(() => hub.Last == 3 * PerNode || !hub.Violations.IsEmpty, "the feed to reach the last stored seq", TimeSpan.FromSeconds(30));

            Assert.Empty(hub.Violations);
            Assert.Equal(Enumerable.Range(1, 3 * PerNode).Select(i => (long)i), hub.Seqs);
        }
        finally
        {
            await feed.StopAsync(default);
        }
    }

    private async Task IngestAsync(string node, Func<StoredSignal, ValueTask> afterStore)
    {
        await Task.Yield();
        for (var i = 0; i < PerNode; i++)
        {
            var stored = await _store.AppendAsync([new NewSignal(node, $"{node}-{i}", "BTC-USD", Tier.Starter, (id, seq) => $"{{\"id\":\"{id}\",\"seq\":{seq}}}")], default);
            await afterStore(stored[0].Signal);
        }
    }

    private static Func<StoredSignal, ValueTask> PublishOn(ISignalBackplane node, TimeProvider clock) => signal => node.PublishAsync(signal, clock.GetUtcNow());

    /// <summary>The hub's side of the seam: records what it is handed and every breach of the promise.</summary>
    private sealed class RecordingFanout : ISignalFanout
    {
        private readonly ConcurrentQueue<long> _seqs = new();
        private long _last;
        private int _inside;

        public ConcurrentQueue<string> Violations { get; } = new();
        public IEnumerable<long> Seqs => _seqs;
        public long Last => Interlocked.Read(ref _last);

        public void StartAt(long lastSeq) => Interlocked.Exchange(ref _last, lastSeq);

        public void Broadcast(OutboundFrame frame)
        {
            if (Interlocked.Increment(ref _inside) > 1) Violations.Enqueue($"{frame.Seq} while another call was inside");
            if (frame.Seq != Last + 1) Violations.Enqueue($"{frame.Seq} after {Last}");
            _seqs.Enqueue(frame.Seq);
            Interlocked.Exchange(ref _last, frame.Seq);
            Interlocked.Decrement(ref _inside);
        }
    }
}
