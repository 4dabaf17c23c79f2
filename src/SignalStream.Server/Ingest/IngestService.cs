using System.Text.Json;
using SignalStream.Protocol;
using SignalStream.Server.Backplane;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Ingest;

/// <summary>
/// The one ingest path (HTTP and the demo publisher both use it): store, then broadcast.
/// Appends and publishes are serialized so that broadcast order is seq order, and a signal is
/// published only after its append committed. A storage failure throws and broadcasts nothing.
/// </summary>
public sealed class IngestService(ISignalStore store, ISignalBackplane backplane, ServerMetrics metrics, TimeProvider time, ILogger<IngestService> logger)
{
    private readonly SemaphoreSlim _order = new(1, 1);

    public async Task<AppendResult> IngestAsync(ValidSignal signal, long startTimestamp, CancellationToken ct)
    {
        await _order.WaitAsync(ct);
        try
        {
            // Not cancellable past this point: a stored signal is always broadcast.
            var result = await store.AppendAsync(signal.Source, signal.ExternalId, signal.Symbol, signal.MinTier,
                (id, seq) => JsonSerializer.Serialize(signal.ToStored(id, seq, time.GetUtcNow()), ProtocolJson.Default.Signal), CancellationToken.None);
            if (result.Duplicate)
            {
                metrics.SignalsIngested.WithLabels("duplicate").Inc();
                logger.SignalDuplicate(signal.ExternalId, signal.Source, result.Signal.Seq);
                return result;
            }
            metrics.SignalsIngested.WithLabels("created").Inc();
            logger.SignalStored(result.Signal.Seq, signal.Symbol, signal.Source, signal.MinTier.ToWire());
            await backplane.PublishAsync(result.Signal, startTimestamp, CancellationToken.None);
            return result;
        }
        finally
        {
            _order.Release();
        }
    }
}
