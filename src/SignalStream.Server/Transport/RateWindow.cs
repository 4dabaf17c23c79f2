namespace SignalStream.Server.Transport;

internal enum FrameVerdict { Ok, OverRate, Flood }

/// <summary>
/// The one rate rule for what a client sends, messages and protocol pings alike: counted in a
/// one-second window, over the rate a frame is refused, over twice the rate the client is flooding
/// (closed 4003). A mutable struct: keep it in a field and call it there.
/// </summary>
internal struct RateWindow
{
    private long _start; // timestamp of the window's first frame
    private int _count;

    public FrameVerdict Count(int perSecond, TimeProvider time)
    {
        var now = time.GetTimestamp();
        if (_count == 0 || time.GetElapsedTime(_start, now) >= TimeSpan.FromSeconds(1)) (_start, _count) = (now, 0);
        _count++;
        if (_count > 2L * perSecond) return FrameVerdict.Flood;
        return _count > perSecond ? FrameVerdict.OverRate : FrameVerdict.Ok;
    }
}
