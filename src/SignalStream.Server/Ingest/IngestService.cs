using System.Diagnostics;
using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Backplane;
using SignalStream.Server.Fanout;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Ingest;

/// <summary>
/// The one ingest path (HTTP and the demo publisher both use it): store, deliver to this node's
/// clients, publish to the other nodes. A signal is delivered only after its append committed; a
/// storage failure throws and delivers nothing. Ingests on one node are serialized, so local
/// delivery never has to wait for a gap to be filled.
/// </summary>
public sealed class IngestService(ISignalStore store, SignalFeed feed, ISignalBackplane backplane, ServerMetrics metrics, TimeProvider time, ILogger<IngestService> logger)
{
    private readonly SemaphoreSlim _order = new(1, 1);

    public async Task<AppendResult> IngestAsync(ValidSignal signal, long startTimestamp, CancellationToken ct)
    {
        await _order.WaitAsync(ct);
        try
        {
            // Not cancellable past this point: a stored signal is always broadcast.
            AppendResult result;
            using (var storing = Tracing.Source.StartActivity(Tracing.Spans.Store))
            {
                result = await store.AppendAsync(signal.Source, signal.ExternalId, signal.Symbol, signal.MinTier,
                    (id, seq) => JsonSerializer.Serialize(signal.ToStored(id, seq, time.GetUtcNow()), ProtocolJson.Default.Signal), CancellationToken.None);
                storing?.SetTag("signalstream.duplicate", result.Duplicate);
            }
            Activity.Current.TagSignal(result.Signal.Seq, signal.Symbol, signal.MinTier);
            if (result.Duplicate)
            {
                metrics.SignalsIngested.WithLabels("duplicate").Inc();
                logger.SignalDuplicate(signal.ExternalId, signal.Source, result.Signal.Seq);
                return result;
            }
            metrics.SignalsIngested.WithLabels("created").Inc();
            logger.SignalStored(result.Signal.Seq, signal.Symbol, signal.Source, signal.MinTier.ToWire());
            await feed.DeliverAsync(result.Signal, startTimestamp, remoteOrigin: null, CancellationToken.None);
            using var publishing = Tracing.Source.StartActivity(Tracing.Spans.Publish, ActivityKind.Producer);
            await backplane.PublishAsync(result.Signal, time.GetUtcNow() - Stopwatch.GetElapsedTime(startTimestamp), publishing?.Context ?? default);
            return result;
        }
        finally
        {
            _order.Release();
        }
    }
}
