namespace SignalStream.Client;

/// <summary>Missed signals were recovered after a (re)connect.</summary>
public sealed class ResumedEventArgs(ResumeSource source, long? afterSeq, int count, long? lastSeq) : EventArgs
{
    /// <summary>Replay or REST catch-up.</summary>
    public ResumeSource Source { get; } = source;
    /// <summary>The position the resume started after.</summary>
    public long? AfterSeq { get; } = afterSeq;
    /// <summary>Signals recovered (as counted by the server for a replay; delivered for REST).</summary>
    public int Count { get; } = count;
    /// <summary>The last delivered seq afterwards.</summary>
    public long? LastSeq { get; } = lastSeq;
}
