using SignalStream.Protocol;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Streaming;

/// <summary>
/// Gap-free, duplicate-free resume. The connection is already in the hub and holding live frames
/// aside (subscribe first); history is read after that (then read history); live frames the
/// replay already covered are dropped when it goes live (then drop what was already sent).
/// </summary>
public sealed class Replay(ISignalStore store)
{
    private const int PageSize = 500;
    // A reconnect storm must not become a storm of history reads.
    private readonly SemaphoreSlim _readers = new(Math.Max(2, Environment.ProcessorCount));

    public async Task RunAsync(StreamConnection connection, long afterSeq, CancellationToken ct)
    {
        connection.HoldLive();
        var cursor = afterSeq;
        var count = 0;
        await _readers.WaitAsync(ct);
        try
        {
            var bounds = await store.GetBoundsAsync(ct);
            if (afterSeq + 1 < bounds.OldestSeq && afterSeq < bounds.LastSeq)
            {
                // Part of the gap was trimmed from history: say so, then send what history still has.
                connection.Send(OutboundFrame.Control(new ResyncRequiredMessage("history_truncated", bounds.OldestSeq), ProtocolJson.Default.ResyncRequiredMessage));
            }

            while (true)
            {
                var filter = connection.Filter;
                var page = await store.ReadAfterAsync(cursor, filter.Tier, PageSize, premiumOnly: false, ct);
                foreach (var signal in page)
                {
                    cursor = signal.Seq;
                    var frame = OutboundFrame.ForSignal(signal);
                    if (!filter.Allows(frame)) continue;
                    await connection.SendReplayAsync(frame, ct);
                    count++;
                }
                if (page.Count < PageSize) break;
            }
        }
        finally
        {
            _readers.Release();
        }
        connection.Send(OutboundFrame.Control(new ReplayCompleteMessage(afterSeq, Math.Max(cursor, afterSeq), count), ProtocolJson.Default.ReplayCompleteMessage));
        connection.GoLive(cursor);
    }
}
