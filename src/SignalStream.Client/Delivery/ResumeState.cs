namespace SignalStream.Client.Delivery;

/// <summary>
/// Where the stream resumes, and the de-duplication rule, in one place: a signal is delivered only when
/// its <c>seq</c> is greater than every <c>seq</c> delivered before, so replays, catch-up pages and polling
/// may overlap freely and the consumer still sees each signal once, in order. A <c>seq</c> counts only
/// within its history's <see cref="Epoch"/>: when the server's history is another one, the position is
/// forgotten (<see cref="TryRebase"/>). Every connection resumes after <see cref="LastSeq"/>; anything
/// that must move or forget the position belongs here.
/// </summary>
/// <remarks>Written by the connection loop only; read from any thread.</remarks>
internal sealed class ResumeState(long? afterSeq, string? epoch = null)
{
    private long _last = afterSeq ?? -1;
    private volatile string? _epoch = epoch;

    /// <summary>Whether a resume position is known (given, seen, or learnt from <c>welcome</c>).</summary>
    public bool HasPosition => Volatile.Read(ref _last) >= 0;

    /// <summary>The last delivered seq (or the resume position); null before one is known.</summary>
    public long? LastSeq => Volatile.Read(ref _last) is var v && v >= 0 ? v : null;

    /// <summary>The history <see cref="LastSeq"/> counts in; null until the server has said (or it was given).</summary>
    public string? Epoch => _epoch;

    /// <summary>True, and advances, when <paramref name="seq"/> is new; false for anything already seen.</summary>
    public bool TryAccept(long seq)
    {
        if (seq <= Volatile.Read(ref _last))
            return false;
        Volatile.Write(ref _last, seq);
        return true;
    }

    /// <summary>
    /// Sets the position when none is known yet (a fresh start without <c>AfterSeq</c>): the stream then
    /// begins after the newest signal stored when the connection opened. Learns the epoch when unknown.
    /// </summary>
    public bool InitializeIfUnknown(long seq, string? epoch = null)
    {
        if (string.IsNullOrEmpty(_epoch) && !string.IsNullOrEmpty(epoch))
            _epoch = epoch;
        if (HasPosition || seq < 0)
            return false;
        Volatile.Write(ref _last, seq);
        return true;
    }

    /// <summary>
    /// Checks the position against the server's history (its <paramref name="epoch"/> and newest
    /// <paramref name="lastSeq"/>). When it is another history (another epoch than ours, or a last seq
    /// below our position: a reset or a restore), the position and de-duplication state start again
    /// from the beginning of that history, so that every one of its signals is delivered; answers true.
    /// </summary>
    public bool TryRebase(string? epoch, long lastSeq)
    {
        var known = _epoch;
        var otherEpoch = !string.IsNullOrEmpty(known) && !string.IsNullOrEmpty(epoch) && !string.Equals(known, epoch, StringComparison.Ordinal);
        var behind = lastSeq < Volatile.Read(ref _last);
        if (!string.IsNullOrEmpty(epoch))
            _epoch = epoch;
        if (!otherEpoch && !behind)
            return false;
        Volatile.Write(ref _last, 0);
        return true;
    }
}
