namespace SignalStream.Client;

/// <summary>How missed signals were recovered.</summary>
public enum ResumeSource
{
    /// <summary>The server replayed them on the WebSocket (<c>replay_complete</c>).</summary>
    Replay,
    /// <summary>The client fetched them from the REST list (<c>resync_required</c>).</summary>
    Rest,
}
