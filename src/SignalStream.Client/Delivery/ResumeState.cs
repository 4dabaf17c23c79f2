namespace SignalStream.Client.Delivery;

/// <summary>
/// Where the stream resumes, and the de-duplication rule, in one place: a signal is delivered only when
/// its <c>seq</c> is greater than every <c>seq</c> delivered before, so replays, catch-up pages and polling
/// may overlap freely and the consumer still sees each signal once, in order. Every connection resumes
/// after <see cref="LastSeq"/>; anything that must move or forget the position belongs here.
/// </summary>
/// <remarks>Written by the connection loop only; read from any thread.</remarks>
internal sealed class ResumeState(long? afterSeq)
{
    private long _last = afterSeq ?? -1;

    /// <summary>Whether a resume position is known (given, seen, or learnt from <c>welcome</c>).</summary>
    public bool HasPosition => Volatile.Read(ref _last) >= 0;

    /// <summary>The last delivered seq (or the resume position); null before one is known.</summary>
    public long? LastSeq => Volatile.Read(ref _last) is var v && v >= 0 ? v : null;

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
    /// begins after the newest signal stored when the connection opened.
    /// </summary>
    public bool InitializeIfUnknown(long seq)
    {
        if (HasPosition || seq < 0)
            return false;
        Volatile.Write(ref _last, seq);
        return true;
    }
}
