using SignalStream.Protocol;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Fanout;

/// <summary>
/// Gap-free, duplicate-free resume. First the resume point must belong to this history: another
/// epoch, or a seq beyond the history's last, answers <c>resync_required</c> and the connection goes
/// live without a replay (the client reloads from the REST list), never a silent gap. Otherwise the
/// connection is already in the hub and holding live frames aside (subscribe first); history is read
/// after that (then read history); live frames the replay already covered are dropped when it goes
/// live (then drop what was already sent). A frame this connection already received is never sent
/// again (see <see cref="StreamConnection.SendReplayAsync"/>). Recent history comes from
/// <see cref="RecentFrames"/> when it covers the gap, else from the store.
/// </summary>
public sealed class Replay(ISignalStore store, RecentFrames recent, SignalFeed feed)
{
    private const int PageSize = 500;
    // A reconnect storm must not become a storm of history reads.
    private readonly SemaphoreSlim _readers = new(Math.Max(2, Environment.ProcessorCount));

    /// <param name="epoch">The history <paramref name="afterSeq"/> was counted in; null when the client did not say.</param>
    public async Task RunAsync(StreamConnection connection, long afterSeq, string? epoch, CancellationToken ct)
    {
        if (await CheckResumePointAsync(afterSeq, epoch, ct) is { } resync)
        {
            connection.Send(OutboundFrame.Control(resync, ProtocolJson.Default.ResyncRequiredMessage));
            connection.GoLive(0); // live from where the connection joined; the client reloads the rest
            return;
        }
        connection.HoldLive();
        if (await TryReplayRecentAsync(connection, afterSeq, ct)) return;

        var cursor = afterSeq;
        var count = 0;
        connection.Flush(); // the welcome need not wait for the store
        await _readers.WaitAsync(ct);
        try
        {
            var bounds = await store.GetBoundsAsync(ct);
            if (afterSeq + 1 < bounds.OldestSeq && afterSeq < bounds.LastSeq)
            {
                // Part of the gap was trimmed from history: say so, then send what history still has.
                connection.Send(OutboundFrame.Control(Resync(ResyncReasons.HistoryTruncated, bounds), ProtocolJson.Default.ResyncRequiredMessage));
            }

            while (true)
            {
                var filter = connection.Filter;
                var page = await store.ReadAfterAsync(cursor, filter.Tier, PageSize, premiumOnly: false, ct);
                foreach (var signal in page)
                {
                    cursor = signal.Seq;
                    var frame = OutboundFrame.ForSignal(signal);
                    if (filter.Allows(frame) && await connection.SendReplayAsync(frame, ct)) count++;
                }
                if (page.Count < PageSize) break;
                connection.Flush(); // this page, while the next is read
            }
        }
        finally
        {
            _readers.Release();
        }
        Complete(connection, afterSeq, cursor, count);
    }

    /// <summary>
    /// Null when <paramref name="afterSeq"/> is a point in this history. The common case costs no
    /// store read: the epoch and last seq this node follows answer it; only a seq beyond what this node
    /// has broadcast is checked against the store, where another node may already have committed it.
    /// </summary>
    private async Task<ResyncRequiredMessage?> CheckResumePointAsync(long afterSeq, string? epoch, CancellationToken ct)
    {
        var epochChanged = !string.IsNullOrEmpty(epoch) && !string.Equals(epoch, feed.Epoch, StringComparison.Ordinal);
        if (!epochChanged && afterSeq <= feed.LastSeq) return null;
        var bounds = await store.GetBoundsAsync(ct);
        if (epochChanged) return Resync(ResyncReasons.EpochChanged, bounds);
        return afterSeq > bounds.LastSeq ? Resync(ResyncReasons.AheadOfHistory, bounds) : null;
    }

    private static ResyncRequiredMessage Resync(string reason, HistoryBounds bounds) =>
        new(reason, bounds.OldestSeq) { Epoch = bounds.Epoch, LastSeq = bounds.LastSeq };

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
            if (connection.Filter.Allows(frame) && await connection.SendReplayAsync(frame, ct)) count++;
        }
        Complete(connection, afterSeq, Math.Max(afterSeq, recentLastSeq), count);
        return true;
    }

    private void Complete(StreamConnection connection, long afterSeq, long cursor, int count)
    {
        connection.Send(OutboundFrame.Control(new ReplayCompleteMessage(afterSeq, Math.Max(cursor, afterSeq), count) { Epoch = feed.Epoch },
            ProtocolJson.Default.ReplayCompleteMessage));
        connection.GoLive(cursor);
    }
}
