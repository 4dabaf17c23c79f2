using System.Globalization;

namespace SignalStream.Server.Observability;

/// <summary>Who ended a WebSocket: the <c>initiator</c> label of <c>signalstream_disconnects_total</c>.</summary>
public static class CloseInitiator
{
    /// <summary>The server sent the close: its decision (4001, 4004, 4503, 1001...) or a rule the client broke (1007, 1009, 4003...).</summary>
    public const string Server = "server";
    /// <summary>The client sent the close.</summary>
    public const string Client = "client";
    /// <summary>Dropped without a close frame (code 0).</summary>
    public const string None = "none";
}

/// <summary>
/// One log line per server-initiated close, with the user and the reason, up to <see cref="LinesPerInterval"/>
/// lines per <see cref="Interval"/>; past that, closes are counted by code and summed up in one line when the
/// interval ends, so a mass close (a shutdown, a wave of expiring tokens) costs a handful of lines, not thousands.
/// </summary>
public sealed class CloseLog(TimeProvider time, ILogger<CloseLog> logger)
{
    public const int LinesPerInterval = 20;
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly SortedDictionary<int, int> _unlogged = [];
    private long _intervalStart = time.GetTimestamp();
    private int _lines;
    private ITimer? _summary;

    public void ServerClosed(string connectionId, string userId, int code, string reason)
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            if (_summary is null && time.GetElapsedTime(_intervalStart, now) >= Interval)
            {
                _intervalStart = now;
                _lines = 0;
            }
            if (_lines < LinesPerInterval)
            {
                _lines++;
                logger.ServerClosedConnection(connectionId, userId, code, reason);
                return;
            }
            _unlogged[code] = _unlogged.GetValueOrDefault(code) + 1;
            _summary ??= time.CreateTimer(_ => Summarise(), null, Interval - time.GetElapsedTime(_intervalStart, now), Timeout.InfiniteTimeSpan);
        }
    }

    private void Summarise()
    {
        lock (_gate)
        {
            var count = _unlogged.Values.Sum();
            var byCode = string.Join(", ", _unlogged.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key}: {c.Value}")));
            logger.ServerClosedSummary(count, (int)Interval.TotalSeconds, byCode);
            _unlogged.Clear();
            _summary?.Dispose();
            _summary = null;
            _intervalStart = time.GetTimestamp(); // a new interval, with its own allowance of lines
            _lines = 0;
        }
    }
}
