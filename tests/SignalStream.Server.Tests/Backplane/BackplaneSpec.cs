using System.Collections.Concurrent;
using SignalStream.Protocol;
using SignalStream.Server.Backplane;
using SignalStream.Server.Storage;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Backplane;

/// <summary>
/// The guarantees written on <see cref="ISignalBackplane"/>, held against every implementation by one
/// suite: <see cref="NoBackplane"/>, <see cref="RedisBackplane"/> (a real Redis) and the
/// <see cref="LossyBackplane"/> the feed's spec runs on. What the interface allows (loss, reordering,
/// doubles) is not checked here; that the feed copes with it is (SignalFeedSpecTests).
/// </summary>
[Trait("Kind", "Functional")]
public abstract class BackplaneSpec : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private long _probes;

    /// <summary>Two nodes on one medium.</summary>
    protected abstract Task<(ISignalBackplane A, ISignalBackplane B)> CreateNodesAsync();

    /// <summary>Takes the medium away: Redis killed, the fake's wire cut.</summary>
    protected abstract Task TakeMediumAwayAsync();

    /// <summary>Whether signals travel at all: <see cref="NoBackplane"/>'s do not.</summary>
    protected abstract bool Carries { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static StoredSignal Signal(long seq, string node) =>
        new(seq, $"sig-{node}-{seq}", (Tier)(seq % 3), seq % 2 == 0 ? "BTC-USD" : "ETH-USD", $"{{\"seq\":{seq},\"note\":\"a|b é\"}}");

    private static DateTimeOffset IngestedAt(long seq) => DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + seq);

    [Fact]
    public async Task Publish_WhileTheMediumIsAway_NeitherThrowsNorHangs()
    {
        var (a, _) = await CreateNodesAsync();
        await TakeMediumAwayAsync();
        await Task.WhenAll(Enumerable.Range(1, 20).Select(seq => a.PublishAsync(Signal(seq, "a"), IngestedAt(seq)).AsTask())).WaitAsync(Patience);
    }

    [Fact]
    public async Task Subscriber_IsHandedOnlyPublishedSignals_Intact_OneAtATime()
    {
        var (a, b) = await CreateNodesAsync();
        var onA = new Recorder();
        var onB = new Recorder();
        await using var subA = await a.SubscribeAsync(onA.ReceiveAsync);
        await using var subB = await b.SubscribeAsync(onB.ReceiveAsync);
        await SettleAsync(a, onA, onB);

        // Both nodes publish at once, as two ingesting nodes do.
        var published = new Dictionary<string, (StoredSignal, DateTimeOffset)>();
        foreach (var (node, first) in new[] { ("a", 1), ("b", 1001) })
            foreach (var seq in Enumerable.Range(first, 200)) published[Signal(seq, node).Id] = (Signal(seq, node), IngestedAt(seq));
        await Task.WhenAll(
            Task.Run(async () => { foreach (var seq in Enumerable.Range(1, 200)) await a.PublishAsync(Signal(seq, "a"), IngestedAt(seq)); }),
            Task.Run(async () => { foreach (var seq in Enumerable.Range(1001, 200)) await b.PublishAsync(Signal(seq, "b"), IngestedAt(seq)); }));
        await SettleAsync(a, onA, onB);
        await SettleAsync(b, onA, onB);

        foreach (var recorder in new[] { onA, onB })
        {
            Assert.All(recorder.Signals, got => Assert.Equal(published[got.Signal.Id], got));
            Assert.InRange(recorder.MostAtOnce, 0, 1);
            if (Carries) Assert.NotEmpty(recorder.Signals);
            else Assert.Empty(recorder.Signals);
        }
    }

    [Fact]
    public async Task DisposedSubscription_IsHandedNothingMore()
    {
        var (a, b) = await CreateNodesAsync();
        var leaving = new Recorder();
        var staying = new Recorder();
        var subscription = await b.SubscribeAsync(leaving.ReceiveAsync);
        await using var stays = await b.SubscribeAsync(staying.ReceiveAsync);
        await SettleAsync(a, leaving, staying);

        await subscription.DisposeAsync();
        var handedBefore = leaving.Count;
        foreach (var seq in Enumerable.Range(1, 50)) await a.PublishAsync(Signal(seq, "a"), IngestedAt(seq));
        await SettleAsync(a, staying);

        Assert.Equal(handedBefore, leaving.Count);
    }

    /// <summary>
    /// Publishes probes from <paramref name="publisher"/> until every recorder has been handed one: the
    /// subscriptions are up and what was published before has had its chance (a backplane that carries
    /// nothing settles at once). Probes are not recorded as signals.
    /// </summary>
    private async Task SettleAsync(ISignalBackplane publisher, params Recorder[] recorders)
    {
        if (!Carries) return;
        var from = Interlocked.Read(ref _probes);
        await Eventually.TrueAsync(async () =>
        {
            var probe = Interlocked.Increment(ref _probes);
            await publisher.PublishAsync(new StoredSignal(probe, $"{Recorder.ProbePrefix}{probe}", Tier.Starter, "BTC-USD", "{}"), DateTimeOffset.UnixEpoch);
            return recorders.All(r => r.LastProbe > from);
        }, "a probe to reach every subscriber", Patience);
    }

    private sealed class Recorder
    {
        public const string ProbePrefix = "probe-";
        private readonly ConcurrentQueue<(StoredSignal Signal, DateTimeOffset IngestedAt)> _signals = new();
        private int _inside;
        private int _mostAtOnce;
        private long _lastProbe;

        public IReadOnlyCollection<(StoredSignal Signal, DateTimeOffset IngestedAt)> Signals => _signals;
        public int Count => _signals.Count;
        public int MostAtOnce => Volatile.Read(ref _mostAtOnce);
        public long LastProbe => Interlocked.Read(ref _lastProbe);

        public async Task ReceiveAsync(StoredSignal signal, DateTimeOffset ingestedAt)
        {
            var inside = Interlocked.Increment(ref _inside);
            if (inside > _mostAtOnce) Interlocked.Exchange(ref _mostAtOnce, inside);
            await Task.Yield(); // give an overlapping call the chance to show itself
            if (signal.Id.StartsWith(ProbePrefix, StringComparison.Ordinal))
            {
                if (signal.Seq > LastProbe) Interlocked.Exchange(ref _lastProbe, signal.Seq);
            }
            else _signals.Enqueue((signal, ingestedAt));
            Interlocked.Decrement(ref _inside);
        }
    }
}
