using System.Diagnostics;
using SignalStream.Protocol;
using SignalStream.Server.Backplane;
using SignalStream.Server.Http;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Fanout;

/// <summary>
/// This node's ordered view of the signal log, and the only caller of <see cref="ISignalFanout.Broadcast"/> (the hub).
/// Signals arrive from local ingest and from the backplane (which the feed subscribes to), in any order, possibly twice
/// or never; the hub receives each exactly once, in seq order, as <see cref="ISignalFanout"/> promises. seq is
/// gapless (each store hands it out under one lock), so a jump means something was missed: the gap is
/// read from history first. Once a second it also compares itself with history, so a signal whose publish was lost (backplane
/// down, publisher crashed after commit) still reaches this node's clients within a second.
/// </summary>
public sealed class SignalFeed(ISignalStore store, ISignalBackplane backplane, ISignalFanout hub, RecentFrames recent, TimeProvider time, ILogger<SignalFeed> logger) : BackgroundService
{
    public static readonly TimeSpan CatchUpInterval = TimeSpan.FromSeconds(1);
    private const int PageSize = 500;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _last;
    private IAsyncDisposable? _subscription;

    public long LastSeq => Interlocked.Read(ref _last);

    public void StartAt(long lastSeq)
    {
        Interlocked.Exchange(ref _last, lastSeq);
        hub.StartAt(lastSeq);
    }

    /// <summary>Broadcasts <paramref name="signal"/> after anything before it; drops it if already broadcast.</summary>
    /// <param name="ingestTimestamp">Stopwatch timestamp of the start of ingest, for the latency histogram (0: unknown).</param>
    public async Task DeliverAsync(StoredSignal signal, long ingestTimestamp, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (signal.Seq <= _last) return;
            if (signal.Seq > _last + 1) await FillAsync(signal.Seq - 1, ct);
            Broadcast(signal, ingestTimestamp);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = await backplane.SubscribeAsync((signal, ingestedAt) => DeliverAsync(signal, ToLocalTimestamp(ingestedAt), CancellationToken.None));
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subscription is not null) await _subscription.DisposeAsync();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CatchUpInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await CatchUpAsync(stoppingToken);
            }
            catch (Exception e) when (Problems.IsOutage(e))
            {
                logger.CatchUpFailed(e);
            }
        }
    }

    internal async Task CatchUpAsync(CancellationToken ct)
    {
        var bounds = await store.GetBoundsAsync(ct);
        if (bounds.LastSeq <= LastSeq) return;
        await _gate.WaitAsync(ct);
        try
        {
            await FillAsync(bounds.LastSeq, ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task FillAsync(long upTo, CancellationToken ct)
    {
        while (_last < upTo)
        {
            var page = await store.ReadAfterAsync(_last, Tier.Institutional, PageSize, premiumOnly: false, ct);
            foreach (var signal in page)
            {
                if (signal.Seq > upTo) return;
                Broadcast(signal, 0);
            }
            if (page.Count < PageSize)
            {
                // Trimmed from history or never stored: nothing more to send below upTo.
                if (_last < upTo)
                {
                    recent.Reset(); // it cannot vouch for the seqs skipped here
                    Interlocked.Exchange(ref _last, upTo);
                }
                return;
            }
        }
    }

    private void Broadcast(StoredSignal signal, long ingestTimestamp)
    {
        var frame = OutboundFrame.ForSignal(signal, ingestTimestamp);
        recent.Add(frame); // before the hub: a resume served from the ring relies on it (see Replay)
        hub.Broadcast(frame);
        Interlocked.Exchange(ref _last, signal.Seq);
    }

    /// <summary>Converts a wall-clock ingest time from another node into a local stopwatch timestamp.</summary>
    private long ToLocalTimestamp(DateTimeOffset ingestedAt)
    {
        var age = time.GetUtcNow() - ingestedAt;
        return age < TimeSpan.Zero ? Stopwatch.GetTimestamp() : Stopwatch.GetTimestamp() - (long)(age.TotalSeconds * Stopwatch.Frequency);
    }
}
