using System.Globalization;
using System.Text.Json;
using SignalStream.Bench;
using Spectre.Console;

// SignalStream load generator. See bench/README.md.
//   suite quick|full                      everything, against all three targets, with JSON, SVG and docs/benchmarks.md
//   fanout --clients N --rate R --seconds S
//   ramp [--step 1000] [--max 19000] [--burst 10] [--burst-rate 10]
//   idle --clients N
//   storm --clients N [--rate 10] [--seconds 20]
//   slow --clients N --rate R --seconds S
//   ingest [--publishers 32] [--seconds 20] [--subscribers 9] [--postgres CONNECTION]   (SignalStream only)
// Common: --targets Ceiling,SignalStream,SignalStreamTraced,SignalR  --repeat N  --users 300  --out bench/results  --docs docs/benchmarks.md
//   worker ...                            (internal: spawned by the coordinator to hold sockets)

var parsed = new Args(args);
if (parsed.Command == "worker") return await WorkerMode.RunAsync(parsed);
if (parsed.Command is null or "help" or "--help" or "-h")
{
    Console.WriteLine("""
        usage: bench <command> [options]        (see bench/README.md)
          suite quick|full
          fanout --clients N --rate R --seconds S
          ramp [--step 1000] [--max 19000] [--burst 10] [--burst-rate 10]
          idle --clients N
          storm --clients N [--rate 10] [--seconds 20]
          slow --clients N --rate R --seconds S
          ingest [--publishers 32] [--seconds 20] [--subscribers 9]   (SignalStream only)
        options: --targets Ceiling,SignalStream,SignalStreamTraced,SignalR  --repeat N  --users 300  --out DIR  --docs FILE
                 --profile DIR   perf + perf stat + dotnet-counters on the server during each measured fan-out window
                 --server-env K=V,K2=V2   extra environment for the servers (e.g. DOTNET_gcServer=0)
                 --warmup S      seconds of publishing before each fan-out window (default 10; 5 in quick)
                 --signalr-client raw|official   SignalR target through the raw protocol client (default) or HubConnection
                 --postgres CONNECTION   SignalStream stores in this PostgreSQL database instead of SQLite
                                         (in a suite: only the PostgreSQL ingest runs, which run.sh gives an instance of its own)
        targets: SignalStreamTraced is SignalStream exporting every signal's trace to an OTLP sink the bench serves (fan-out only)
        """);
    return parsed.Command is null ? 2 : 0;
}

if (parsed.Command == "merge") return await Merge.RunAsync(parsed);

var paths = new BenchPaths(BenchPaths.FindRepoRoot());
var outDir = Path.GetFullPath(parsed.Get("out", Path.Combine(paths.RepoRoot, "bench/results")));
Directory.CreateDirectory(outDir);
var work = Path.Combine(Path.GetTempPath(), $"signalstream-bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}");
Directory.CreateDirectory(work);
var targets = parsed.Get("targets", "Ceiling,SignalStream,SignalStreamTraced,SignalR").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
    .Select(t => Enum.Parse<TargetKind>(t, ignoreCase: true)).ToArray();
var repeat = parsed.GetInt("repeat", 1);
paths.Snapshot(work, targets);
var started = DateTime.UtcNow;
var report = new SuiteReport
{
    Mode = parsed.Command == "suite" ? parsed.Positional(1) ?? "quick" : parsed.Command,
    Started = started.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
    Command = "bench " + string.Join(' ', args),
    Machine = Machine.Describe(),
};
var stamp = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
var jsonPath = Path.Combine(outDir, $"{stamp}-{report.Mode}.json");

// Progress: a live line on a terminal, a line every few seconds in a log.
var interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
if (!interactive) AnsiConsole.Profile.Width = 240;
var lastPlain = DateTime.MinValue;
var clock = System.Diagnostics.Stopwatch.StartNew();
string current = "";
void Status(string text)
{
    current = text;
    if (!interactive && DateTime.UtcNow - lastPlain > TimeSpan.FromSeconds(5))
    {
        lastPlain = DateTime.UtcNow;
        Console.WriteLine($"  … {clock.Elapsed:mm\\:ss} {text}");
    }
}

await using var host = new BenchHost(paths, work, parsed.GetInt("users", report.Mode == "quick" ? 90 : 300), Status);
WorkerHandle.SignalRClient = parsed.Get("signalr-client", "raw");
foreach (var pair in parsed.Get("server-env", "").Split(',', StringSplitOptions.RemoveEmptyEntries))
    ServerProcess.ExtraEnvironment[pair.Split('=', 2)[0]] = pair.Split('=', 2)[1];
// A suite measures SQLite throughout and PostgreSQL in its own ingest runs; one scenario stores where it is told.
var postgres = parsed.Get("postgres", "") is { Length: > 0 } connection ? Storage.Postgres(connection) : null;
if (parsed.Command != "suite" && postgres is not null) host.Storage = postgres;
if (parsed.Get("profile", "") is { Length: > 0 } profileDir) host.ProfileDirectory = Path.GetFullPath(profileDir);
host.WarmUpSeconds = parsed.GetInt("warmup", report.Mode == "quick" ? 5 : 10);
var scenarios = new Scenarios(host, Status);

void Record(RunResult r)
{
    if (r.Target == nameof(TargetKind.SignalR) && WorkerHandle.SignalRClient == "official")
        r.Note = (r.Note is null ? "" : r.Note + "; ") + "clients: Microsoft.AspNetCore.SignalR.Client HubConnection";
    report.Runs.Add(r);
    var verdict = r.Passed ? "[green]ok[/]" : "[red]FAILED[/]";
    var line = $"{r.Target,-12} {r.Scenario,-28} p50 {r.P50?.ToString("0.0", CultureInfo.InvariantCulture) ?? "–"} p99 {r.P99?.ToString("0.0", CultureInfo.InvariantCulture) ?? "–"} max {r.Max?.ToString("0", CultureInfo.InvariantCulture) ?? "–"} ms · CPU/1k {r.CpuMsPer1000?.ToString("0.00", CultureInfo.InvariantCulture) ?? "–"} ms · {r.KbPerConnection?.ToString("0.0", CultureInfo.InvariantCulture) ?? "–"} KB/conn · delivered {r.Delivered:N0} missing {r.Missing} dup {r.Duplicates} forbidden {r.Forbidden} ooo {r.OutOfOrder}";
    AnsiConsole.MarkupLine($"{clock.Elapsed:mm\\:ss} {verdict} {Markup.Escape(line)}{(r.Note is null ? "" : " · " + Markup.Escape(r.Note))}");
    report.ComputeMedians();
    File.WriteAllText(jsonPath, JsonSerializer.Serialize(report, SuiteReport.Json));
}

async Task ForTargets(int times, Func<TargetKind, int, Task> run, TargetKind[]? only = null)
{
    for (var r = 1; r <= times; r++)
        foreach (var t in only ?? targets)
            if (targets.Contains(t))
            {
                try { await run(t, r); }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or FileNotFoundException or HttpRequestException)
                {
                    AnsiConsole.MarkupLine($"[red]{Markup.Escape($"{t}: {e.Message}")}[/]");
                    report.Runs.Add(new RunResult { Scenario = "error", Target = t.ToString(), Passed = false, Note = e.Message });
                }
            }
}

// The traced target answers one question, what tracing costs a fan-out; the other scenarios run the three servers.
TargetKind[] servers = [TargetKind.Ceiling, TargetKind.SignalStream, TargetKind.SignalR];
async Task Fanout(int clients, double rate, int seconds, int times, TargetKind[]? only = null) =>
    await ForTargets(times, async (t, r) => Record(await scenarios.FanoutAsync(t, clients, rate, seconds, r)), only);
async Task Idle(int clients, int times) =>
    await ForTargets(times, async (t, r) => Record(await scenarios.IdleAsync(t, clients, r)), servers);
async Task Ramp(int times) =>
    await ForTargets(times, async (t, r) => Record(await scenarios.RampAsync(t, parsed.GetInt("step", 1000), parsed.GetInt("max", 19_000), parsed.GetInt("burst", 10), parsed.GetDouble("burst-rate", 10), r)), servers);
async Task Storm(int clients, double rate, int seconds, int times, TargetKind[]? only = null) =>
    await ForTargets(times, async (t, r) => Record(await scenarios.StormAsync(t, clients, rate, seconds, r)), only ?? servers);
async Task Slow(int clients, double rate, int seconds, int times) =>
    await ForTargets(times, async (t, r) =>
    {
        var (without, with) = await scenarios.SlowAsync(t, clients, rate, seconds, r);
        Record(without);
        Record(with);
    }, servers);

async Task Ingest(int publishers, int seconds, int subscribers, int times, Storage? storage = null) =>
    await ForTargets(times, async (t, r) => Record(await scenarios.IngestAsync(t, publishers, seconds, subscribers, r, storage)), [TargetKind.SignalStream]);

async Task Body()
{
    switch (parsed.Command)
    {
        case "suite" when report.Mode == "quick":
            await Fanout(parsed.GetInt("clients", 1000), parsed.GetDouble("rate", 20), parsed.GetInt("seconds", 15), repeat);
            await Idle(parsed.GetInt("idle-clients", 2000), repeat);
            await Ingest(32, 5, 9, repeat);
            break;
        case "suite":
            var only = parsed.Get("only", "fanout3000,fanout10000,ramp,idle,storm,slow,ingest,ingest-postgres,ingest1000").Split(',');
            if (only.Contains("fanout3000")) await Fanout(3000, 20, 15, parsed.GetInt("repeat", 3)); // with the traced target: issue 16's cost
            if (only.Contains("fanout10000")) await Fanout(10_000, 10, 15, parsed.GetInt("repeat", 3), servers); // a headline target too: medians of 3
            if (only.Contains("idle")) await Idle(10_000, parsed.GetInt("repeat-large", 1));
            if (only.Contains("storm")) await Storm(10_000, 10, 20, parsed.GetInt("repeat-large", 1), [TargetKind.SignalStream]);
            if (only.Contains("slow")) await Slow(3000, 20, 30, parsed.GetInt("repeat-large", 1));
            if (only.Contains("ramp")) await Ramp(1);
            if (only.Contains("ingest")) await Ingest(32, 20, 9, parsed.GetInt("repeat", 3), Storage.Sqlite);
            if (only.Contains("ingest-postgres"))
            {
                if (postgres is not null) await Ingest(32, 20, 9, parsed.GetInt("repeat", 3), postgres);
                else AnsiConsole.MarkupLine("[yellow]ingest-postgres skipped: no --postgres CONNECTION (bench/run.sh full starts an instance)[/]");
            }
            if (only.Contains("ingest1000")) await Ingest(32, 20, 1000, parsed.GetInt("repeat", 3), Storage.Sqlite); // fan-out bound: vs the fan-out scenarios
            break;
        case "fanout": await Fanout(parsed.GetInt("clients", 1000), parsed.GetDouble("rate", 20), parsed.GetInt("seconds", 15), repeat); break;
        case "idle": await Idle(parsed.GetInt("clients", 2000), repeat); break;
        case "ramp": await Ramp(repeat); break;
        case "storm": await Storm(parsed.GetInt("clients", 10_000), parsed.GetDouble("rate", 10), parsed.GetInt("seconds", 20), repeat); break;
        case "ingest": await Ingest(parsed.GetInt("publishers", 32), parsed.GetInt("seconds", 20), parsed.GetInt("subscribers", 9), repeat); break;
        case "slow": await Slow(parsed.GetInt("clients", 3000), parsed.GetDouble("rate", 20), parsed.GetInt("seconds", 30), repeat); break;
        default: throw new ArgumentException($"unknown command {parsed.Command}");
    }
}

if (interactive)
    await AnsiConsole.Status().Spinner(Spinner.Known.Dots).StartAsync("starting", async ctx =>
    {
        var body = Body();
        while (!body.IsCompleted)
        {
            ctx.Status(Markup.Escape(current));
            await Task.WhenAny(body, Task.Delay(250));
        }
        await body;
    });
else await Body();

report.Finished = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
report.ComputeMedians();
await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, SuiteReport.Json));
var commandLine = parsed.Get("command-line", "bench/run.sh " + string.Join(' ', args));
var markdown = report.Markdown(commandLine);
await File.WriteAllTextAsync(Path.Combine(outDir, "latest.svg"), report.Svg());
await File.WriteAllTextAsync(Path.Combine(outDir, "latest.md"), markdown);
var docs = parsed.Get("docs", "");
if (docs.Length > 0) await File.WriteAllTextAsync(Path.GetFullPath(docs), Docs.Page(markdown));
Console.WriteLine();
Console.WriteLine(markdown);
Console.WriteLine($"results: {jsonPath}");
try { Directory.Delete(work, recursive: true); } catch (IOException) { }
return report.Runs.All(r => r.Passed) ? 0 : 1;

/// <summary><c>merge a.json b.json ...</c>: one report (medians over all runs) from several invocations.</summary>
public static class Merge
{
    public static async Task<int> RunAsync(Args parsed)
    {
        var files = Enumerable.Range(1, 100).Select(parsed.Positional).TakeWhile(f => f is not null).Select(f => f!).ToList();
        var reports = files.Select(f => JsonSerializer.Deserialize<SuiteReport>(File.ReadAllText(f), SuiteReport.Json)!).ToList();
        var merged = new SuiteReport
        {
            Mode = string.Join(" + ", reports.Select(r => r.Mode).Distinct()),
            Started = reports.Min(r => r.Started) ?? "",
            Finished = reports.Max(r => r.Finished) ?? "",
            Command = string.Join(" ; ", reports.Select(r => r.Command)),
            Machine = reports[0].Machine,
            Runs = [.. reports.SelectMany(r => r.Runs).Where(r => r.Scenario != "error")],
        };
        merged.Machine["loadavg_at_start"] = string.Join(" | ", reports.Select(r => r.Machine.GetValueOrDefault("loadavg_at_start")));
        merged.ComputeMedians();
        var outDir = Path.GetFullPath(parsed.Get("out", Path.Combine(BenchPaths.FindRepoRoot(), "bench/results")));
        Directory.CreateDirectory(outDir);
        var stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        await File.WriteAllTextAsync(Path.Combine(outDir, $"{stamp}-merged.json"), JsonSerializer.Serialize(merged, SuiteReport.Json));
        var markdown = merged.Markdown(parsed.Get("command-line", string.Join(" ; ", reports.Select(r => r.Command))));
        await File.WriteAllTextAsync(Path.Combine(outDir, "latest.svg"), merged.Svg());
        await File.WriteAllTextAsync(Path.Combine(outDir, "latest.md"), markdown);
        if (parsed.Get("docs", "") is { Length: > 0 } docs) await File.WriteAllTextAsync(Path.GetFullPath(docs), Docs.Page(markdown));
        Console.WriteLine(markdown);
        return 0;
    }
}

/// <summary>--name value pairs and positional words.</summary>
public sealed class Args
{
    private readonly Dictionary<string, string> _named = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _positional = [];

    public Args(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                var eq = args[i].IndexOf('=', StringComparison.Ordinal);
                if (eq > 0) _named[args[i][2..eq]] = args[i][(eq + 1)..];
                else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) _named[args[i][2..]] = args[++i];
                else _named[args[i][2..]] = "true";
            }
            else _positional.Add(args[i]);
        }
    }

    public string? Command => _positional.FirstOrDefault();
    public string? Positional(int i) => i < _positional.Count ? _positional[i] : null;
    public string Get(string name, string fallback) => _named.TryGetValue(name, out var v) ? v : fallback;
    public int GetInt(string name, int fallback) => _named.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    public double GetDouble(string name, double fallback) => _named.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}

/// <summary>The docs page around the generated tables.</summary>
public static class Docs
{
    public static string Page(string results) => $"""
        # Benchmarks

        Written by `bench/run.sh` (do not edit by hand; the prose above the results is in `bench/SignalStream.Bench/Program.cs`).

        ## What is measured

        - **Targets**, each a child process on its own port and a fresh data folder, driven by the same generator with the same payloads:
          **SignalStream** (`src/SignalStream.Server`: auth, SQLite storage, tier filtering, resume; in the ingest scenario also PostgreSQL, an instance `bench/run.sh full` starts with `fsync` and `synchronous_commit` on);
          **SignalStreamTraced** (fan-out only: the same server exporting every signal's trace over OTLP/HTTP to a sink the generator serves on loopback, each ingest POST carrying a sampled `traceparent`; compared with SignalStream of the same run for issue 16's tracing cost);
          **Ceiling** (`bench/Baselines/Ceiling`: minimal Kestrel WebSocket broadcaster, no auth, no storage, one pre-serialized frame per signal offered to every socket of the tiers allowed to see it, a bounded queue and one writer per socket);
          **SignalR** (`bench/Baselines/SignalRServer`: ASP.NET Core SignalR, JWT bearer auth, a group per tier, a SQLite insert before the broadcast, JSON hub protocol).
        - **Latency**: from just before the ingest POST is written to the moment a client has parsed the frame, for every delivery, in HdrHistogram (µs resolution). The POST start is a monotonic-clock timestamp carried in the signal's `external_id`, so every generator process on this machine reads the same clock.
        - **Correctness**, in the same run: every client must receive exactly the signals its tier may see (`min_tier` cycles STARTER, PROFESSIONAL, INSTITUTIONAL; clients are spread evenly over the tiers), once, in `seq` order. Missing, duplicated, forbidden and out-of-order deliveries are counted; a run with any is marked failed.
        - **Warm-up**: each fan-out window follows 10 s of publishing at the same rate (5 s in `quick`), not measured: code that runs once per signal climbs the JIT tiers slowly (see bench/PROFILE.md).
        - **Server CPU** (user + system, `/proc/<pid>/stat`) from the first POST to the last delivery, per 1 000 deliveries. **KB per connection**: VmRSS with N connections (settled) minus VmRSS before them, divided by N.
        - **Targets table**: the issues' targets this run measured (16: tracing cost; 17: fan-out against the ceiling, idle memory, ingest on SQLite and PostgreSQL, ingest with 1 000 subscribers against the fan-out's deliveries/s), met or not met with the figures.
        - **Users**: 300 users (90 in `quick`, so that a fresh build still runs it in about three minutes), a third per tier; tokens fetched once; clients share them round-robin.
        - **Generator**: `bench/SignalStream.Bench`, a raw RFC 6455 client (one socket, a 2 KB buffer and one receive loop per connection; no per-frame allocation), in worker processes of at most 9 500 sockets above 15 000 clients.

        ## Results

        Where the time and memory go, from profiles of these targets, and what to change: [bench/PROFILE.md](../bench/PROFILE.md).

        {results}

        ## Commands

        ```sh
        bench/run.sh quick     # ~3 min: fanout 1 000 clients @ 20/s for 15 s (also traced), idle 2 000, ingest 5 s
        bench/run.sh full      # fanout 3 000 @ 20/s (also traced) and 10 000 @ 10/s (x3 each), idle 10 000, storm 10 000, slow 3 000, ramp to 19 000,
                               # ingest 20 s with 9 subscribers on SQLite and on PostgreSQL (its own, durable) and with 1 000 subscribers (x3 each)
        bench/run.sh full --only idle,storm,slow --repeat-large 3   # medians of 3 for the other large scenarios too
        bench/run.sh fanout --clients 3000 --rate 20 --seconds 12 --profile /tmp/prof   # perf, perf stat, dotnet-counters on each server
        bench/run.sh fanout --clients 3000 --rate 20 --seconds 15 --repeat 3 --targets SignalStream,Ceiling
        bench/run.sh fanout --clients 3000 --rate 20 --seconds 15 --repeat 3 --targets SignalStream,SignalStreamTraced
        bench/run.sh ingest --seconds 20 --postgres "Host=127.0.0.1;Port=5451;Username=postgres;Database=postgres"
        ```
        """;
}
