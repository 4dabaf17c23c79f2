using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using SignalStream.Protocol;
using SignalStream.Server.Backplane;
using SignalStream.Server.Fanout;
using SignalStream.Server.Http;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Ingest;

/// <summary>
/// The one ingest path (HTTP and the demo publisher both use it): store, deliver to this node's
/// clients, publish to the other nodes. Group commit: one loop drains every append waiting in a
/// bounded queue and stores them in one transaction (one fsync), then delivers them in seq order and
/// only then answers each caller. A signal is delivered only after its append committed; a storage
/// failure fails the whole batch and delivers nothing. The loop is this node's only writer, so local
/// delivery never has to wait for a gap to be filled.
/// </summary>
public sealed class IngestService(ISignalStore store, SignalFeed feed, ISignalBackplane backplane, ServerMetrics metrics, TimeProvider time, ILogger<IngestService> logger)
    : BackgroundService
{
    /// <summary>Appends stored in one transaction at most; a longer queue is stored in several, one after the other.</summary>
    public const int MaxBatch = 512;
    /// <summary>Appends waiting at most; a caller past it waits for room (backpressure on publishers).</summary>
    public const int QueueCapacity = 8192;

    /// <param name="Trace">The caller's activity (the POST's trace, when tracing): the loop's spans for this signal join it.</param>
    private sealed record Pending(ValidSignal Signal, long StartTimestamp, Activity? Trace)
    {
        public TaskCompletionSource<AppendResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    /// <summary>Stores <paramref name="signal"/> with whatever else is waiting; returns once it is stored and handed to fan-out.</summary>
    /// <param name="ct">Cancels only the wait for room in the queue: once queued, a signal is stored and broadcast.</param>
    public async Task<AppendResult> IngestAsync(ValidSignal signal, long startTimestamp, CancellationToken ct) =>
        await (await QueueAsync([signal], startTimestamp, ct))[0];

    /// <summary>Queues every signal, in order (a long list may be stored in several batches); one task per signal, as for <see cref="IngestAsync"/>.</summary>
    public async Task<Task<AppendResult>[]> QueueAsync(IReadOnlyList<ValidSignal> signals, long startTimestamp, CancellationToken ct)
    {
        var pending = new Task<AppendResult>[signals.Count];
        for (var i = 0; i < signals.Count; i++)
        {
            var append = new Pending(signals[i], startTimestamp, Activity.Current);
            await _queue.Writer.WriteAsync(append, ct);
            pending[i] = append.Done.Task;
        }
        return pending;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete(); // the loop stores what is queued, then ends
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out var next)) batch.Add(next);
            await StoreAndDeliverAsync(batch);
            batch.Clear();
        }
    }

    private async Task StoreAndDeliverAsync(List<Pending> batch)
    {
        IReadOnlyList<AppendResult> results;
        Activity?[]? storing = null;
        try
        {
            var receivedAt = time.GetUtcNow();
            var appends = batch.ConvertAll(p => new NewSignal(p.Signal.Source, p.Signal.ExternalId, p.Signal.Symbol, p.Signal.MinTier,
                (id, seq) => JsonSerializer.Serialize(p.Signal.ToStored(id, seq, receivedAt), ProtocolJson.Default.Signal)));
            storing = StartSpans(batch, Tracing.Spans.Store, ActivityKind.Internal);
            results = await store.AppendAsync(appends, CancellationToken.None);
            for (var i = 0; i < batch.Count; i++) storing?[i]?.SetTag("signalstream.duplicate", results[i].Duplicate).Dispose();
        }
        catch (Exception e)
        {
            foreach (var span in storing ?? []) span?.SetStatus(ActivityStatusCode.Error).Dispose(); // ended, so exported
            foreach (var p in batch) p.Done.TrySetException(e); // nothing stored, nothing broadcast
            return;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            // Each signal's logs and fan-out span belong to its caller's trace (the feed starts its span under Activity.Current).
            var loop = Activity.Current;
            Activity.Current = batch[i].Trace;
            try { await DeliverAsync(batch[i], results[i]); }
            finally { Activity.Current = loop; }
        }
        // Callers hear back once the whole batch is stored and handed to fan-out; other nodes after that.
        foreach (var (p, result) in batch.Zip(results)) p.Done.TrySetResult(result);
        foreach (var (p, result) in batch.Zip(results))
        {
            if (result.Duplicate) continue;
            using var publishing = p.Trace is null ? null : Tracing.Source.StartActivity(Tracing.Spans.Publish, ActivityKind.Producer, p.Trace.Context);
            await backplane.PublishAsync(result.Signal, time.GetUtcNow() - Stopwatch.GetElapsedTime(p.StartTimestamp), publishing?.Context ?? default);
        }
    }

    private async Task DeliverAsync(Pending append, AppendResult result)
    {
        var signal = append.Signal;
        append.Trace.TagSignal(result.Signal.Seq, signal.Symbol, signal.MinTier);
        if (result.Duplicate)
        {
            metrics.SignalsIngested.WithLabels("duplicate").Inc();
            logger.SignalDuplicate(signal.ExternalId, signal.Source, result.Signal.Seq);
            return;
        }
        metrics.SignalsIngested.WithLabels("created").Inc();
        logger.SignalStored(result.Signal.Seq, signal.Symbol, signal.Source, signal.MinTier.ToWire());
        try
        {
            await feed.DeliverAsync(result.Signal, append.StartTimestamp, remoteOrigin: null, CancellationToken.None);
        }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            logger.DeliveryDeferred(result.Signal.Seq, e); // stored: the callers still hear so
        }
    }

    /// <summary>One span per traced signal of the batch, each in its caller's trace; null when nothing is traced.</summary>
    private static Activity?[]? StartSpans(List<Pending> batch, string name, ActivityKind kind)
    {
        if (!Tracing.Source.HasListeners()) return null;
        var spans = new Activity?[batch.Count];
        for (var i = 0; i < batch.Count; i++)
            if (batch[i].Trace is { } trace) spans[i] = Tracing.Source.StartActivity(name, kind, trace.Context);
        return spans;
    }
}
