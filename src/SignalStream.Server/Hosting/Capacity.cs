namespace SignalStream.Server.Hosting;

/// <summary>
/// How many connections this process may hold. A .NET process that runs out of file descriptors
/// aborts ("Out of memory"), so the ceiling is read from the process's own limit at start and
/// leaves room for the database, logs, listeners and plain HTTP requests.
/// </summary>
public sealed class Capacity
{
    public Capacity(LimitsOptions limits)
    {
        FileLimit = ReadFileLimit();
        var reserve = Math.Max(200, FileLimit / 20);
        var derived = (int)Math.Clamp(FileLimit - reserve, 16, int.MaxValue);
        MaxConnections = limits.MaxConnections > 0 ? Math.Min(limits.MaxConnections, derived) : derived;
        // Kestrel's own ceiling on sockets: past it, it refuses at accept time instead of running out.
        MaxSockets = (int)Math.Clamp(FileLimit - 64, 16, int.MaxValue);
    }

    public long FileLimit { get; }
    public int MaxConnections { get; }
    public int MaxSockets { get; }

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
}
