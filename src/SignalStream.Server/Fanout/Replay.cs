using SignalStream.Protocol;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Fanout;

/// <summary>
/// Gap-free, duplicate-free resume. The connection is already in the hub and holding live frames
/// aside (subscribe first); history is read after that (then read history); live frames the
/// replay already covered are dropped when it goes live (then drop what was already sent).
/// Recent history comes from <see cref="RecentFrames"/> when it covers the gap, else from the store.
/// </summary>
public sealed class Replay(ISignalStore store, RecentFrames recent)
{
    private const int PageSize = 500;
    // A reconnect storm must not become a storm of history reads.
    private readonly SemaphoreSlim _readers = new(Math.Max(2, Environment.ProcessorCount));

    public async Task RunAsync(StreamConnection connection, long afterSeq, CancellationToken ct)
    {
        connection.HoldLive();
        if (await TryReplayRecentAsync(connection, afterSeq, ct)) return;

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
        Complete(connection, afterSeq, cursor, count);
    }

    /// <summary>
    /// Replays from memory when the ring holds everything after <paramref name="afterSeq"/>: no store
    /// read and no reader slot, and the ring's frames are shared, not serialized per recipient.
    /// Gap-free because the feed adds each frame to the ring before handing it to the hub, and the
    /// connection joined the hub, holding live frames, before this copy: a frame missing from the
    /// copy is offered to the connection afterwards. GoLive (and Offer after it) drops frames at or
    /// below the cursor (the ring's last seq at the copy), so none is sent twice.
    /// </summary>
    private async Task<bool> TryReplayRecentAsync(StreamConnection connection, long afterSeq, CancellationToken ct)
    {
        var frames = new List<OutboundFrame>();
        if (!recent.TryCopyAfter(afterSeq, frames, out var recentLastSeq)) return false;
        var count = 0;
        foreach (var frame in frames)
        {
            if (!connection.Filter.Allows(frame)) continue;
            await connection.SendReplayAsync(frame, ct);
            count++;
        }
        Complete(connection, afterSeq, Math.Max(afterSeq, recentLastSeq), count);
        return true;
    }

    private static void Complete(StreamConnection connection, long afterSeq, long cursor, int count)
    {
        connection.Send(OutboundFrame.Control(new ReplayCompleteMessage(afterSeq, Math.Max(cursor, afterSeq), count), ProtocolJson.Default.ReplayCompleteMessage));
        connection.GoLive(cursor);
    }
}
