using SignalStream.Server.Streaming;

namespace SignalStream.Server.Transport;

/// <summary>
/// How many connections this process may hold. A .NET process that runs out of file descriptors
/// aborts ("Out of memory"), so the ceilings come from the process's own limit less what it already
/// holds, measured rather than guessed: the runtime keeps about two descriptors open per loaded
/// assembly, some 170 once storage is open and 280 once every code path has run, so a fixed
/// reserve is too small at a low limit. Measured once, on first use (after storage is open, before
/// Kestrel listens). At a 20 000 limit: about 19 600 sockets, 19 300 of them WebSockets.
/// </summary>
public sealed class Capacity(LimitsOptions limits)
{
    /// <summary>
    /// Descriptors the process still opens after the measurement: assemblies loaded on the first use
    /// of a code path (about 110 descriptors, measured), SQLite's pooled files, log files.
    /// </summary>
    internal const int WarmUpDescriptors = 160;

    private readonly Lazy<(long FileLimit, int InUse, int MaxSockets, int MaxConnections)> _measured = new(() => Measure(limits));

    public long FileLimit => _measured.Value.FileLimit;
    /// <summary>Descriptors open when the ceilings were computed.</summary>
    public int InUseAtStart => _measured.Value.InUse;
    /// <summary>Sockets of any kind: <see cref="AcceptGate"/> stops accepting at this many.</summary>
    public int MaxSockets => _measured.Value.MaxSockets;
    /// <summary>WebSocket connections; the rest of <see cref="MaxSockets"/> stays free for plain requests, refusals included.</summary>
    public int MaxConnections => _measured.Value.MaxConnections;

    private static (long, int, int, int) Measure(LimitsOptions limits)
    {
        var fileLimit = ReadFileLimit();
        var inUse = CountOpenDescriptors();
        var free = fileLimit - inUse - WarmUpDescriptors;
        var maxSockets = (int)Math.Clamp(free, 1, int.MaxValue);
        // Health checks, ingest, the REST list, the 503 that refuses an upgrade, and the database
        // and Redis pools need sockets too: about 330 of them at a 20 000 limit, 32 at least (a
        // node serves a handful of plain requests at a time: ingest at its 500/s limit is ~5).
        var requestRoom = Math.Max(32, free / 60);
        var derived = (int)Math.Clamp(free - requestRoom, 0, int.MaxValue);
        var maxConnections = limits.MaxConnections > 0 ? Math.Min(limits.MaxConnections, derived) : derived;
        return (fileLimit, inUse, maxSockets, maxConnections);
    }

    private static long ReadFileLimit()
    {
        try
        {
            // "Max open files            20000                20000                files"
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            var soft = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
            if (long.TryParse(soft, out var value)) return value;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 65_536; // no /proc (not Linux) or "unlimited"
    }

    private static int CountOpenDescriptors()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 256; // no /proc: about what the runtime holds at start
        }
    }
}
