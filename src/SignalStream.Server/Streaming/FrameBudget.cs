using SignalStream.Server.Transport;

namespace SignalStream.Server.Streaming;

/// <summary>
/// Per-connection counters for the frame rules: the message rate (<see cref="RateWindow"/>) and a
/// count of bad frames.
/// </summary>
internal sealed class FrameBudget(WebSocketsOptions options, TimeProvider time)
{
    private RateWindow _messages;
    private int _bad;

    public FrameVerdict CountMessage() => _messages.Count(options.MessagesPerSecond, time);

    /// <summary>True when the budget of bad frames is spent.</summary>
    public bool CountBadFrame() => ++_bad >= options.MaxBadFrames;
}
