using System.Diagnostics;

namespace SignalStream.Bench;

/// <summary>One measured run: one target, one scenario, one repeat. Times in ms, memory in KB.</summary>
public sealed class RunResult
{
    public string Scenario { get; set; } = "";
    public string Target { get; set; } = "";
    public int Repeat { get; set; }
    public int Clients { get; set; }
    public double Rate { get; set; }
    public int Signals { get; set; }
    public int ConnectFailures { get; set; }
    public long Expected { get; set; }
    public long Delivered { get; set; }
    public long Missing { get; set; }
    public long Duplicates { get; set; }
    public long Forbidden { get; set; }
    public long OutOfOrder { get; set; }
    public long FailedPosts { get; set; }
    public double? P50 { get; set; }
    public double? P90 { get; set; }
    public double? P95 { get; set; }
    public double? P99 { get; set; }
    public double? P999 { get; set; }
    public double? Max { get; set; }
    public double? PostP50 { get; set; }
    public double? PostP99 { get; set; }
    public double? ServerCpuMs { get; set; }
    public double? CpuMsPer1000 { get; set; }
    public double? GeneratorCpuMs { get; set; }
    public double? KbPerConnection { get; set; }
    public long? RssBeforeKb { get; set; }
    public long? RssAfterKb { get; set; }
    public double? SecondsConnecting { get; set; }
    public bool Passed { get; set; } = true;
    public string? Note { get; set; }
    public Dictionary<string, double>? Extra { get; set; }

    public void Fill(WindowResult w)
    {
        Signals = w.Signals;
        Expected = w.Expected;
        Delivered = w.Delivered;
        Missing = w.Missing;
        Duplicates = w.Duplicates;
        Forbidden = w.Forbidden;
        OutOfOrder = w.OutOfOrder;
        FailedPosts = w.Failed;
        P50 = R(w.Ms(50));
        P90 = R(w.Ms(90));
        P95 = R(w.Ms(95));
        P99 = R(w.Ms(99));
        P999 = R(w.Ms(99.9));
        Max = R(w.MaxMs);
        PostP50 = w.PostLatency.TotalCount > 0 ? R(w.PostLatency.GetValueAtPercentile(50) / 1000.0) : null;
        PostP99 = w.PostLatency.TotalCount > 0 ? R(w.PostLatency.GetValueAtPercentile(99) / 1000.0) : null;
        ServerCpuMs = R(w.ServerCpuMs);
        CpuMsPer1000 = w.Delivered > 0 ? R(w.ServerCpuMs * 1000 / w.Delivered) : null;
        GeneratorCpuMs = R(w.GeneratorCpuMs);
        Passed = w.Correct && w.ClosedClients == 0;
    }

    public static double? R(double v) => double.IsFinite(v) ? Math.Round(v, 2) : null;
}

/// <summary>The scenarios. Each starts its own server (a fresh copy of the prepared data) and stops it.</summary>
public sealed class Scenarios(BenchHost host, Action<string> status)
{
    private async Task<T> WithProgress<T>(RunContext ctx, string label, Func<Task<T>> body)
    {
        using var cts = new CancellationTokenSource();
        var ticker = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                var s = ctx.Server.Sample();
                status($"{label}: clients {ctx.Welcomed:N0}/{ctx.Clients:N0} · published {ctx.Publisher.Published:N0} · delivered {ctx.Valid:N0} · server RSS {s.RssKb / 1024:N0} MB");
                try { await Task.Delay(250, cts.Token); } catch (OperationCanceledException) { }
            }
        });
        try { return await body(); }
        finally { await cts.CancelAsync(); await ticker; }
    }

    private static async Task<long> SettledRssAsync(ServerProcess server, int seconds)
    {
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        return server.Sample().RssKb;
    }

    public async Task<RunResult> FanoutAsync(TargetKind kind, int clients, double rate, int seconds, int repeat, int slowEvery = 0, string? name = null)
    {
        name ??= $"fanout {clients}@{rate}/s";
        await using var ctx = await RunContext.StartAsync(host, kind, clients);
        return await WithProgress(ctx, $"{kind} {name} #{repeat}", async () =>
        {
            var rss0 = await SettledRssAsync(ctx.Server, 1);
            var connected = await ctx.ConnectAsync(clients, slowEvery);
            var rss1 = await SettledRssAsync(ctx.Server, 1);
            // Warm-up, not measured, so the window sees steady state: code that runs once per signal is called
            // only R times a second, and tiered JIT kept recompiling it (~10% of SignalStream's CPU, which has
            // the longest ingest path) for more than 5 s into the window after a shorter warm-up.
            await ctx.WindowAsync((int)Math.Max(10, rate * host.WarmUpSeconds), rate, TimeSpan.FromSeconds(10));
            var profile = host.ProfileDirectory is { } dir ? Profiler.Start(dir, $"{kind}-{clients}-{repeat}", ctx.Server.Pid, seconds - 2) : null;
            var otlp0 = kind.Traced() ? (await host.OtlpAsync()).Received : default;
            var window = await ctx.WindowAsync((int)(rate * seconds), rate, TimeSpan.FromSeconds(20));
            var profiled = profile is null ? null : await profile.FinishAsync(window.Delivered * (seconds - 2) / (double)seconds);
            var extra = new Dictionary<string, double>(profiled ?? []) { ["deliveries_per_s"] = Math.Round(window.Delivered / window.WallSeconds, 0) };
            if (kind.Traced())
            {
                // What reached the sink during the window (the exporter sends a batch every 5 s): proof the spans left.
                var otlp1 = (await host.OtlpAsync()).Received;
                extra["otlp_exports"] = otlp1.Exports - otlp0.Exports;
                extra["otlp_kb"] = Math.Round((otlp1.Bytes - otlp0.Bytes) / 1024.0, 1);
            }
            var result = new RunResult
            {
                Extra = extra,
                Scenario = name, Target = kind.ToString(), Repeat = repeat, Clients = clients, Rate = rate,
                ConnectFailures = clients - connected.Connected, SecondsConnecting = RunResult.R(connected.Milliseconds / 1000),
                RssBeforeKb = rss0, RssAfterKb = rss1, KbPerConnection = RunResult.R((rss1 - rss0) / (double)clients),
            };
            result.Fill(window);
            result.Passed &= result.ConnectFailures == 0;
            if (connected.Refusals.Count > 0) result.Note = "refused: " + string.Join(", ", connected.Refusals.Select(r => $"{r.Key}×{r.Value}"));
            return result;
        });
    }

    public async Task<RunResult> IdleAsync(TargetKind kind, int clients, int repeat)
    {
        const int warm = 100;
        await using var ctx = await RunContext.StartAsync(host, kind, clients + warm);
        return await WithProgress(ctx, $"{kind} idle {clients} #{repeat}", async () =>
        {
            // A few connections and signals first, so code paths and pools are warm: the delta is per connection.
            await ctx.ConnectAsync(warm);
            await ctx.WindowAsync(6, 20, TimeSpan.FromSeconds(10));
            var rss0 = await SettledRssAsync(ctx.Server, 1);
            var connectProfile = host.ProfileDirectory is { } pdir ? Profiler.Start(pdir, $"{kind}-connect-{clients}-{repeat}", ctx.Server.Pid, 8) : null;
            var connected = await ctx.ConnectAsync(clients);
            if (connectProfile is not null) await connectProfile.FinishAsync(0);
            var rss1 = await SettledRssAsync(ctx.Server, 4);
            var heap = host.ProfileDirectory is { } dir ? await Profiler.HeapAsync(dir, $"{kind}-idle-{clients}-{repeat}", ctx.Server.Pid) : null;
            var check = await ctx.WindowAsync(3, 20, TimeSpan.FromSeconds(20)); // still alive and authenticated?
            var result = new RunResult
            {
                Scenario = $"idle {clients}", Target = kind.ToString(), Repeat = repeat, Clients = clients,
                ConnectFailures = clients - connected.Connected, SecondsConnecting = RunResult.R(connected.Milliseconds / 1000),
                RssBeforeKb = rss0, RssAfterKb = rss1, KbPerConnection = RunResult.R((rss1 - rss0) / (double)clients),
                Missing = check.Missing, Delivered = check.Delivered, Expected = check.Expected, Extra = heap,
                Passed = connected.Connected == clients && check.Correct,
            };
            return result;
        });
    }

    /// <summary>
    /// Ingest flat out: <paramref name="publishers"/> lanes POST unique signals one per request, each the moment the
    /// previous answered, for <paramref name="seconds"/> s (after a 5 s warm-up the same way), while
    /// <paramref name="subscribers"/> clients (a third per tier) must each get every signal they may see, once, in seq order.
    /// </summary>
    public async Task<RunResult> IngestAsync(TargetKind kind, int publishers, int seconds, int subscribers, int repeat, Storage? storage = null)
    {
        const int WarmUpSeconds = 5;
        const int MaxPerSecond = 25_000; // sizes the delivery bitmaps: above anything this machine stores
        storage ??= host.Storage;
        var name = $"ingest {publishers} publishers, {subscribers} subscribers ({storage.Label})";
        await using var ctx = await RunContext.StartAsync(host, kind, subscribers, storage);
        return await WithProgress(ctx, $"{kind} {name} #{repeat}", async () =>
        {
            var connected = await ctx.ConnectAsync(subscribers);
            await ctx.WindowAsync(WarmUpSeconds * MaxPerSecond, () => ctx.Publisher.PublishFlatOutAsync(publishers, WarmUpSeconds, WarmUpSeconds * MaxPerSecond), TimeSpan.FromSeconds(60));
            var profile = host.ProfileDirectory is { } dir ? Profiler.Start(dir, $"{kind}-ingest-{subscribers}-{repeat}", ctx.Server.Pid, seconds - 2) : null;
            var window = await ctx.WindowAsync(seconds * MaxPerSecond, () => ctx.Publisher.PublishFlatOutAsync(publishers, seconds, seconds * MaxPerSecond), TimeSpan.FromSeconds(60));
            var profiled = profile is null ? null : await profile.FinishAsync(window.Delivered * (seconds - 2) / (double)seconds);
            var stored = window.Signals - window.Failed;
            var result = new RunResult
            {
                Scenario = name, Target = kind.ToString(), Repeat = repeat, Clients = subscribers,
                Rate = Math.Round(stored / window.WallSeconds, 0), ConnectFailures = subscribers - connected.Connected,
            };
            result.Fill(window);
            result.Extra = new(profiled ?? [])
            {
                ["publishers"] = publishers,
                ["posted_per_s"] = Math.Round(stored / window.PublishSeconds, 0), // answered 201 per second of publishing
                ["stored_delivered_per_s"] = Math.Round(stored / window.WallSeconds, 0), // until the last delivery of the last signal
                ["deliveries_per_s"] = Math.Round(window.Delivered / window.WallSeconds, 0),
            };
            result.Passed &= result.ConnectFailures == 0;
            return result;
        });
    }

    /// <summary>Steps of <paramref name="step"/> clients, a burst of broadcasts per step, until p95 &gt; 500 ms or a miss.</summary>
    public async Task<RunResult> RampAsync(TargetKind kind, int step, int max, int burst, double burstRate, int repeat)
    {
        await using var ctx = await RunContext.StartAsync(host, kind, max);
        return await WithProgress(ctx, $"{kind} ramp #{repeat}", async () =>
        {
            var steps = new Dictionary<string, double>();
            var best = 0;
            RunResult? last = null;
            var warmed = false;
            for (var clients = step; clients <= max; clients += step)
            {
                var connected = await ctx.ConnectAsync(step);
                await Task.Delay(2000); // let accept work and the GC it caused finish before the burst
                if (!warmed) { await ctx.WindowAsync(10, burstRate, TimeSpan.FromSeconds(10)); warmed = true; }
                var window = await ctx.WindowAsync(burst, burstRate, TimeSpan.FromSeconds(15));
                var p95 = window.Ms(95);
                steps[$"p95@{clients}"] = Math.Round(p95, 1);
                var pass = connected.Connected == step && window.Correct && window.ClosedClients == 0 && p95 <= 500;
                last = new RunResult { Scenario = $"ramp burst {burst}@{burstRate}/s", Target = kind.ToString(), Repeat = repeat, Clients = clients, Rate = burstRate };
                last.Fill(window);
                last.ConnectFailures = step - connected.Connected;
                if (!pass)
                {
                    last.Note = $"stopped at {clients}: p95 {p95:F0} ms, missing {window.Missing}, connect failures {step - connected.Connected}"
                        + (connected.Refusals.Count > 0 ? " (" + string.Join(", ", connected.Refusals.Select(r => $"{r.Key}×{r.Value}")) + ")" : "");
                    break;
                }
                best = clients;
                if (ctx.Server.HasExited) break;
            }
            last ??= new RunResult { Scenario = $"ramp burst {burst}@{burstRate}/s", Target = kind.ToString() };
            last.Extra = steps;
            last.Extra["best"] = best;
            last.Passed = best > 0;
            last.Note ??= $"reached the maximum of {max} clients";
            return last;
        });
    }

    /// <summary>All clients drop at once mid-stream; time until every one has reconnected and resumed.</summary>
    public async Task<RunResult> StormAsync(TargetKind kind, int clients, double rate, int seconds, int repeat)
    {
        await using var ctx = await RunContext.StartAsync(host, kind, clients);
        return await WithProgress(ctx, $"{kind} storm {clients} #{repeat}", async () =>
        {
            var connected = await ctx.ConnectAsync(clients);
            await ctx.WindowAsync(10, rate, TimeSpan.FromSeconds(10));
            StormReport[]? storm = null;
            var window = await ctx.WindowAsync((int)(rate * seconds), rate, TimeSpan.FromSeconds(30), async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, seconds / 3.0)));
                var stormProfile = host.ProfileDirectory is { } pdir ? Profiler.Start(pdir, $"{kind}-storm-{clients}-{repeat}", ctx.Server.Pid, 10) : null;
                storm = await ctx.StormAsync(concurrency: 128, timeoutMs: 60_000);
                if (stormProfile is not null) await stormProfile.FinishAsync(0);
                return storm;
            });
            var result = new RunResult { Scenario = $"storm {clients}", Target = kind.ToString(), Repeat = repeat, Clients = clients, Rate = rate };
            result.Fill(window);
            var s = storm ?? [];
            result.ConnectFailures = clients - connected.Connected + s.Sum(x => x.Failed);
            result.Extra = new()
            {
                ["resumed"] = s.Sum(x => x.Resumed),
                ["resume_all_ms"] = Math.Round(s.Length > 0 ? s.Max(x => x.MaxMs) : double.NaN, 0),
                ["resume_median_ms"] = Math.Round(s.Length > 0 ? s.Max(x => x.MedianMs) : double.NaN, 0),
                ["all_upgraded_ms"] = Math.Round(s.Length > 0 ? s.Max(x => x.ReconnectedMs) : double.NaN, 0),
            };
            result.Passed = result.Passed && s.Sum(x => x.Resumed) == clients && result.Extra["resume_all_ms"] <= 10_000;
            result.Note = kind == TargetKind.SignalStream ? "resume with after_seq" : "no resume in this target: reconnect only, signals during the gap are lost";
            return result;
        });
    }

    /// <summary>1% of clients stop reading; the others' p99 against a run without them.</summary>
    public async Task<(RunResult Without, RunResult With)> SlowAsync(TargetKind kind, int clients, double rate, int seconds, int repeat)
    {
        var without = await FanoutAsync(kind, clients, rate, seconds, repeat, 0, $"slow {clients}@{rate}/s: none");
        var with = await FanoutAsync(kind, clients, rate, seconds, repeat, 100, $"slow {clients}@{rate}/s: 1% stalled");
        with.Extra = new() { ["p99_ratio"] = Math.Round((with.P99 ?? double.NaN) / (without.P99 ?? double.NaN), 2) };
        return (without, with);
    }
}

/// <summary>The machine the numbers came from.</summary>
public static class Machine
{
    public static Dictionary<string, string> Describe()
    {
        string Run(string file, string args)
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, UseShellExecute = false })!;
                var text = p.StandardOutput.ReadToEnd().Trim();
                p.WaitForExit();
                return text;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException) { return "?"; }
        }
        var cpu = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?" : "?";
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
        return new()
        {
            ["nproc"] = Run("nproc", ""),
            ["uname_r"] = Run("uname", "-r"),
            ["dotnet_sdk"] = Run("dotnet", "--version"),
            ["dotnet_runtime"] = Environment.Version.ToString(),
            ["cpu"] = cpu,
            ["loadavg_at_start"] = load,
        };
    }
}
