using SignalStream.Server.Storage;

namespace SignalStream.Server.Fanout;

/// <summary>
/// The most recently broadcast signal frames, contiguous in seq, so that a resume asking only for
/// recent history (most of a reconnect storm) is served from memory instead of the store.
/// <see cref="Backplane.SignalFeed"/> adds each frame before the hub sees it; see <see cref="Replay"/>.
/// </summary>
public sealed class RecentFrames
{
    public const int MaxCapacity = 8192;

    private readonly Lock _sync = new();
    private readonly OutboundFrame?[] _frames;
    private int _oldest; // index of the oldest frame
    private int _count;

    public RecentFrames(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _frames = new OutboundFrame?[capacity];
    }

    /// <summary>
    /// Never more than history keeps: a resume that history can only partly serve must still go to
    /// the store, which says <c>history_truncated</c>.
    /// </summary>
    public static RecentFrames For(StorageOptions storage) => new(Math.Min(MaxCapacity, storage.HistoryLimit));

    public int Capacity => _frames.Length;

    /// <summary>Appends the next broadcast frame; one that does not follow the last starts the ring afresh.</summary>
    public void Add(OutboundFrame frame)
    {
        lock (_sync)
        {
            // After a gap the ring can no longer vouch that nothing is missing between its frames.
            if (_count > 0 && frame.Seq != LastSeqLocked() + 1) ResetLocked();
            if (_count < _frames.Length)
            {
                _frames[(_oldest + _count) % _frames.Length] = frame;
                _count++;
            }
            else
            {
                _frames[_oldest] = frame;
                _oldest = (_oldest + 1) % _frames.Length;
            }
        }
    }

    /// <summary>Forgets every frame: for when the feed moves past seqs it never broadcast.</summary>
    public void Reset()
    {
        lock (_sync) ResetLocked();
    }

    /// <summary>
    /// When the ring holds every frame after <paramref name="afterSeq"/> (up to its last), appends
    /// them to <paramref name="into"/> in seq order and answers true, with <paramref name="lastSeq"/>
    /// the ring's last seq at the copy. False (nothing copied) when part of what follows
    /// <paramref name="afterSeq"/> is not in the ring, or the ring is empty.
    /// </summary>
    public bool TryCopyAfter(long afterSeq, List<OutboundFrame> into, out long lastSeq)
    {
        lock (_sync)
        {
            lastSeq = 0;
            if (_count == 0) return false;
            var firstSeq = _frames[_oldest]!.Seq;
            lastSeq = LastSeqLocked();
            if (afterSeq < firstSeq - 1) return false;
            var from = Math.Max(afterSeq + 1, firstSeq);
            if (from > lastSeq) return true;
            into.EnsureCapacity(into.Count + (int)(lastSeq - from + 1));
            for (var seq = from; seq <= lastSeq; seq++)
                into.Add(_frames[(_oldest + (int)(seq - firstSeq)) % _frames.Length]!);
            return true;
        }
    }

    private long LastSeqLocked() => _frames[(_oldest + _count - 1) % _frames.Length]!.Seq;

    private void ResetLocked()
    {
        Array.Clear(_frames); // let the old frames go
        _oldest = 0;
        _count = 0;
    }
}
