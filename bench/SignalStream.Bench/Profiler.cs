using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace SignalStream.Bench;

/// <summary>
/// <c>--profile DIR</c>: during a measured fan-out window, perf samples the server's CPU (kernel and
/// JIT code; the server runs with DOTNET_PerfMapEnabled=1), perf stat counts its syscalls and
/// context switches, and dotnet-counters (if installed) records its allocation rate. Results:
/// DIR/NAME.top.txt (self time by symbol), DIR/NAME.stat.txt, DIR/NAME.counters.csv, and per-delivery
/// figures folded into the run's <c>extra</c>. Caveat: <c>perf stat -p</c> counts only the threads that
/// existed when it attached, so syscall and context-switch counts are lower bounds when the thread
/// pool grows during the window; compare cpu-clock with the /proc figure to see how much was missed.
/// </summary>
public sealed partial class Profiler
{
    private readonly string _dir, _name;
    private readonly List<Process> _processes = [];

    private Profiler(string dir, string name) { _dir = dir; _name = name; }

    public static Profiler Start(string dir, string name, int pid, int seconds)
    {
        Directory.CreateDirectory(dir);
        var p = new Profiler(dir, name);
        var s = seconds.ToString(CultureInfo.InvariantCulture);
        p.Run("perf", $"record -e cpu-clock -F 499 -g -p {pid} -o {p.File("perf.data")} -- sleep {s}");
        p.Run("perf", $"stat -e raw_syscalls:sys_enter,context-switches,cpu-clock -p {pid} -o {p.File("stat.txt")} -- sleep {s}");
        var counters = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet/tools/dotnet-counters");
        if (System.IO.File.Exists(counters))
            p.Run(counters, $"collect -p {pid} --counters System.Runtime --format csv --refresh-interval 1 -o {p.File("counters.csv")} --duration 00:00:00:{s}");
        return p;
    }

    private string File(string suffix) => Path.Combine(_dir, $"{_name}.{suffix}");

    private void Run(string file, string args)
    {
        try
        {
            var info = new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            var process = Process.Start(info)!;
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            _processes.Add(process);
        }
        catch (System.ComponentModel.Win32Exception) { }
    }

    /// <summary>Waits for the tools, writes the report, answers per-delivery figures.</summary>
    public async Task<Dictionary<string, double>> FinishAsync(double deliveriesInWindow)
    {
        foreach (var p in _processes)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try { await p.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { p.Kill(); }
        }
        var extra = new Dictionary<string, double>();
        if (System.IO.File.Exists(File("stat.txt")))
        {
            var stat = await System.IO.File.ReadAllTextAsync(File("stat.txt"));
            double Count(string evt)
            {
                var m = Regex.Match(stat, @"([\d,.]+)\s+(?:msec\s+)?" + Regex.Escape(evt));
                return m.Success ? double.Parse(m.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture) : double.NaN;
            }
            if (deliveriesInWindow > 0)
            {
                extra["syscalls_per_delivery"] = Math.Round(Count("raw_syscalls:sys_enter") / deliveriesInWindow, 2);
                extra["context_switches_per_delivery"] = Math.Round(Count("context-switches") / deliveriesInWindow, 3);
                extra["cpu_us_per_delivery_perf"] = Math.Round(Count("cpu-clock") * 1000 / deliveriesInWindow, 2);
            }
        }
        if (System.IO.File.Exists(File("counters.csv")) && deliveriesInWindow > 0)
        {
            // Rows: Timestamp,Provider,Counter Name,Counter Type,Mean/Increment ; allocation appears as a rate per interval.
            double allocated = 0;
            foreach (var line in System.IO.File.ReadLines(File("counters.csv")))
            {
                var cols = line.Split(',');
                if (cols.Length >= 5 && cols[2].Contains("gc.heap.total_allocated", StringComparison.Ordinal) || cols.Length >= 5 && cols[2].Contains("Allocation Rate", StringComparison.Ordinal))
                    allocated += double.TryParse(cols[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0;
            }
            if (allocated > 0) extra["bytes_allocated_per_delivery"] = Math.Round(allocated / deliveriesInWindow, 1);
        }
        if (System.IO.File.Exists(File("perf.data")))
        {
            var report = await Output("perf", $"report -i {File("perf.data")} --no-children --sort dso,sym --stdio --percent-limit 0.4 -g none");
            await System.IO.File.WriteAllTextAsync(File("top.txt"), report);
            var inclusive = await Output("perf", $"report -i {File("perf.data")} --children --sort sym --stdio --percent-limit 2 -g none");
            await System.IO.File.WriteAllTextAsync(File("inclusive.txt"), inclusive);
            var byDso = await Output("perf", $"report -i {File("perf.data")} --no-children --sort dso --stdio -g none");
            await System.IO.File.WriteAllTextAsync(File("dso.txt"), byDso);
            // perf.data stays in the profile folder (large): perf report -i it for call graphs.
        }
        return extra;
    }

    /// <summary>A heap snapshot (dotnet-gcdump): DIR/NAME.heap.txt lists the types holding the most memory.</summary>
    public static async Task<Dictionary<string, double>?> HeapAsync(string dir, string name, int pid)
    {
        var tool = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet/tools/dotnet-gcdump");
        if (!System.IO.File.Exists(tool)) return null;
        Directory.CreateDirectory(dir);
        var dump = Path.Combine(dir, $"{name}.gcdump");
        await Output(tool, $"collect -p {pid} -o {dump}");
        if (!System.IO.File.Exists(dump)) return null;
        var report = await Output(tool, $"report {dump}");
        await System.IO.File.WriteAllTextAsync(Path.Combine(dir, $"{name}.heap.txt"), report);
        System.IO.File.Delete(dump);
        return [];
    }

    private static async Task<string> Output(string file, string args)
    {
        var info = new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(info)!;
        var text = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return await text;
    }
}
