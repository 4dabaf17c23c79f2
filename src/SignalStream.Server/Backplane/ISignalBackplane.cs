using SignalStream.Server.Storage;
using SignalStream.Server.Streaming;

namespace SignalStream.Server.Backplane;

/// <summary>
/// Carries stored signals to every node's hub. Guarantees: a node receives signals in the order
/// they were published (publishes are serialized by the ingest path, in seq order); delivery across
/// nodes is at most once, and a node that misses signals (backplane down) is healed by client
/// resume, because history, not the backplane, is the record.
/// </summary>
public interface ISignalBackplane
{
    ValueTask PublishAsync(StoredSignal signal, long ingestTimestamp, CancellationToken ct);
}

/// <summary>One node: publishing is broadcasting to the local hub.</summary>
public sealed class InMemoryBackplane(ConnectionHub hub) : ISignalBackplane
{
    public ValueTask PublishAsync(StoredSignal signal, long ingestTimestamp, CancellationToken ct)
    {
        hub.Broadcast(OutboundFrame.ForSignal(signal, ingestTimestamp));
        return ValueTask.CompletedTask;
    }
}
