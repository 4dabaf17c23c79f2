using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SignalStream.Bench;

/// <summary>Everything one invocation measured, and the medians over its repeats.</summary>
public sealed class SuiteReport
{
    public string Mode { get; set; } = "";
    public string Started { get; set; } = "";
    public string Finished { get; set; } = "";
    public string Command { get; set; } = "";
    public Dictionary<string, string> Machine { get; set; } = [];
    public List<RunResult> Runs { get; set; } = [];
    public List<RunResult> Medians { get; set; } = [];

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly string[] Order = [nameof(TargetKind.Ceiling), nameof(TargetKind.SignalStream), nameof(TargetKind.SignalStreamTraced), nameof(TargetKind.SignalR)];

    /// <summary>Per scenario and target, the median of each figure over the repeats (the run whose p99 is the median supplies the counts).</summary>
    public void ComputeMedians()
    {
        Medians = [];
        foreach (var group in Runs.GroupBy(r => (r.Scenario, r.Target)))
        {
            var runs = group.ToList();
            double? Med(Func<RunResult, double?> f)
            {
                var values = runs.Select(f).Where(v => v.HasValue).Select(v => v!.Value).OrderBy(v => v).ToList();
                if (values.Count == 0) return null;
                return values.Count % 2 == 1 ? values[values.Count / 2] : Math.Round((values[values.Count / 2 - 1] + values[values.Count / 2]) / 2, 2);
            }
            var pick = runs.OrderBy(r => r.P99 ?? 0).ElementAt(runs.Count / 2);
            Medians.Add(new RunResult
            {
                Scenario = group.Key.Scenario, Target = group.Key.Target, Repeat = runs.Count, Clients = pick.Clients, Rate = pick.Rate,
                Signals = pick.Signals, Expected = pick.Expected, Delivered = pick.Delivered,
                ConnectFailures = runs.Sum(r => r.ConnectFailures), Missing = runs.Sum(r => r.Missing), Duplicates = runs.Sum(r => r.Duplicates),
                Forbidden = runs.Sum(r => r.Forbidden), OutOfOrder = runs.Sum(r => r.OutOfOrder), FailedPosts = runs.Sum(r => r.FailedPosts),
                P50 = Med(r => r.P50), P90 = Med(r => r.P90), P95 = Med(r => r.P95), P99 = Med(r => r.P99), P999 = Med(r => r.P999), Max = Med(r => r.Max),
                PostP50 = Med(r => r.PostP50), PostP99 = Med(r => r.PostP99),
                ServerCpuMs = Med(r => r.ServerCpuMs), CpuMsPer1000 = Med(r => r.CpuMsPer1000), GeneratorCpuMs = Med(r => r.GeneratorCpuMs),
                KbPerConnection = Med(r => r.KbPerConnection), RssBeforeKb = (long?)Med(r => r.RssBeforeKb), RssAfterKb = (long?)Med(r => r.RssAfterKb),
                SecondsConnecting = Med(r => r.SecondsConnecting),
                Passed = runs.All(r => r.Passed),
                Note = string.Join("; ", runs.Select(r => r.Note).Where(n => n is not null).Distinct()) is { Length: > 0 } n ? n : null,
                Extra = MedianExtra(runs),
            });
        }
        Medians = [.. Medians.OrderBy(m => Runs.FindIndex(r => r.Scenario == m.Scenario)).ThenBy(m => Array.IndexOf(Order, m.Target))];
    }

    private static Dictionary<string, double>? MedianExtra(List<RunResult> runs)
    {
        var keys = runs.Where(r => r.Extra is not null).SelectMany(r => r.Extra!.Keys).Distinct().ToList();
        if (keys.Count == 0) return null;
        var result = new Dictionary<string, double>();
        foreach (var key in keys)
        {
            var values = runs.Select(r => r.Extra?.GetValueOrDefault(key, double.NaN) ?? double.NaN).Where(double.IsFinite).OrderBy(v => v).ToList();
            if (values.Count > 0) result[key] = values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
        }
        return result;
    }

    private RunResult? Find(string scenario, string target) => Medians.FirstOrDefault(m => m.Scenario == scenario && m.Target == target);

    private static string F(double? v, string format = "0.0") => v is { } x && double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string Ratio(double? a, double? b) => a is { } x && b is { } y && y > 0 ? (x / y).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "–";

    public string Markdown(string commandLine)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Run `{Mode}` from {Started} to {Finished} (UTC).");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Machine.GetValueOrDefault("nproc")} cores ({Machine.GetValueOrDefault("cpu")}), kernel {Machine.GetValueOrDefault("uname_r")}, .NET SDK {Machine.GetValueOrDefault("dotnet_sdk")} (runtime {Machine.GetValueOrDefault("dotnet_runtime")}); load average at start {Machine.GetValueOrDefault("loadavg_at_start")}. Server and generator share these cores, and other work ran beside them: compare ratios within a run, not absolute figures across runs.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Command: `{commandLine}`");
        md.AppendLine();
        Targets(md);

        var fanouts = Medians.Where(m => m.Scenario.StartsWith("fanout", StringComparison.Ordinal) || m.Scenario.StartsWith("slow", StringComparison.Ordinal)).ToList();
        if (fanouts.Count > 0)
        {
            md.AppendLine("### Fan-out: latency from the start of the ingest POST to receipt, every delivery");
            md.AppendLine();
            md.AppendLine("| scenario | target | runs | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | server CPU ms / 1 000 deliveries | KB / connection | deliveries | missing / dup / forbidden / out of order | p99 vs ceiling | CPU vs ceiling | p99 vs SignalR | CPU vs SignalR |");
            md.AppendLine("| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- | --: | --: | --: | --: |");
            foreach (var m in fanouts)
            {
                var ceiling = Find(m.Scenario, nameof(TargetKind.Ceiling));
                var signalr = Find(m.Scenario, nameof(TargetKind.SignalR));
                var errors = $"{m.Missing} / {m.Duplicates} / {m.Forbidden} / {m.OutOfOrder}" + (m.ConnectFailures > 0 ? $" ({m.ConnectFailures} not connected)" : "");
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {m.Scenario} | {m.Target} | {m.Repeat} | {F(m.P50)} | {F(m.P90)} | {F(m.P99)} | {F(m.P999)} | {F(m.Max)} | {F(m.CpuMsPer1000, "0.00")} | {F(m.KbPerConnection)} | {m.Delivered:N0} | {errors} | {(m.Target == "Ceiling" ? "" : Ratio(m.P99, ceiling?.P99))} | {(m.Target == "Ceiling" ? "" : Ratio(m.CpuMsPer1000, ceiling?.CpuMsPer1000))} | {(m.Target == "SignalR" ? "" : Ratio(m.P99, signalr?.P99))} | {(m.Target == "SignalR" ? "" : Ratio(m.CpuMsPer1000, signalr?.CpuMsPer1000))} |");
            }
            md.AppendLine();
        }

        var slow = Medians.Where(m => m.Scenario.Contains("1% stalled", StringComparison.Ordinal)).ToList();
        if (slow.Count > 0)
        {
            md.AppendLine("### Slow consumers: the other clients' p99 with 1% of clients not reading");
            md.AppendLine();
            md.AppendLine("| target | p99 without (ms) | p99 with (ms) | ratio (target ≤ 1.2x) |");
            md.AppendLine("| --- | --: | --: | --: |");
            foreach (var m in slow)
            {
                var without = Find(m.Scenario.Replace("1% stalled", "none", StringComparison.Ordinal), m.Target);
                md.AppendLine(CultureInfo.InvariantCulture, $"| {m.Target} | {F(without?.P99)} | {F(m.P99)} | {Ratio(m.P99, without?.P99)} |");
            }
            md.AppendLine();
        }

        var idle = Medians.Where(m => m.Scenario.StartsWith("idle", StringComparison.Ordinal)).ToList();
        if (idle.Count > 0)
        {
            md.AppendLine("### Idle: server memory per authenticated connection (RSS with N connections minus RSS before, / N)");
            md.AppendLine();
            md.AppendLine("| scenario | target | runs | KB / connection | RSS before MB | RSS after MB | connect time s | vs ceiling | vs SignalR | all connected and live |");
            md.AppendLine("| --- | --- | --: | --: | --: | --: | --: | --: | --: | --- |");
            foreach (var m in idle)
            {
                var ceiling = Find(m.Scenario, nameof(TargetKind.Ceiling));
                var signalr = Find(m.Scenario, nameof(TargetKind.SignalR));
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {m.Scenario} | {m.Target} | {m.Repeat} | {F(m.KbPerConnection)} | {F(m.RssBeforeKb / 1024.0, "0")} | {F(m.RssAfterKb / 1024.0, "0")} | {F(m.SecondsConnecting)} | {(m.Target == "Ceiling" ? "" : Ratio(m.KbPerConnection, ceiling?.KbPerConnection))} | {(m.Target == "SignalR" ? "" : Ratio(m.KbPerConnection, signalr?.KbPerConnection))} | {(m.Passed ? "yes" : "NO")} |");
            }
            md.AppendLine();
        }

        var ramp = Medians.Where(m => m.Scenario.StartsWith("ramp", StringComparison.Ordinal)).ToList();
        if (ramp.Count > 0)
        {
            md.AppendLine("### Ramp: steps of 1 000 clients, a burst of broadcasts per step; score = largest step with p95 ≤ 500 ms and nothing missed");
            md.AppendLine();
            md.AppendLine("| scenario | target | runs | largest passing step | p95 per step (ms) | why it stopped |");
            md.AppendLine("| --- | --- | --: | --: | --- | --- |");
            foreach (var m in ramp)
            {
                var steps = m.Extra?.Where(e => e.Key.StartsWith("p95@", StringComparison.Ordinal)).Select(e => $"{e.Key[4..]}: {e.Value:0}") ?? [];
                md.AppendLine(CultureInfo.InvariantCulture, $"| {m.Scenario} | {m.Target} | {m.Repeat} | {F(m.Extra?.GetValueOrDefault("best"), "0")} | {string.Join(", ", steps)} | {m.Note} |");
            }
            md.AppendLine();
        }

        var storm = Medians.Where(m => m.Scenario.StartsWith("storm", StringComparison.Ordinal)).ToList();
        if (storm.Count > 0)
        {
            md.AppendLine("### Storm: every client dropped at once mid-stream, then reconnecting (SignalStream: with after_seq)");
            md.AppendLine();
            md.AppendLine("| scenario | target | runs | resumed | all re-upgraded (101) ms | median resume ms | all resumed ms (target ≤ 10 000) | missing / dup / out of order over the whole window | note |");
            md.AppendLine("| --- | --- | --: | --: | --: | --: | --: | --- | --- |");
            foreach (var m in storm)
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {m.Scenario} | {m.Target} | {m.Repeat} | {F(m.Extra?.GetValueOrDefault("resumed"), "0")}/{m.Clients} | {F(m.Extra?.GetValueOrDefault("all_upgraded_ms"), "0")} | {F(m.Extra?.GetValueOrDefault("resume_median_ms"), "0")} | {F(m.Extra?.GetValueOrDefault("resume_all_ms"), "0")} | {m.Missing} / {m.Duplicates} / {m.OutOfOrder} | {m.Note} |");
            md.AppendLine();
        }
        var ingest = Medians.Where(m => m.Scenario.StartsWith("ingest", StringComparison.Ordinal)).ToList();
        if (ingest.Count > 0)
        {
            md.AppendLine("### Ingest: publishers POSTing one signal per request flat out, each stored (group commit) before it is broadcast");
            md.AppendLine();
            md.AppendLine("| scenario | target | runs | stored and delivered /s (target ≥ 5 000 SQLite, ≥ 2 000 PostgreSQL) | POST p50 ms | POST p99 ms (target ≤ 50) | deliveries /s | delivery p99 ms | CPU / 1k deliveries ms | signals | missing / dup / forbidden / out of order / failed POSTs |");
            md.AppendLine("| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --- |");
            foreach (var m in ingest)
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {m.Scenario} | {m.Target} | {m.Repeat} | {F(m.Extra?.GetValueOrDefault("stored_delivered_per_s"), "0")} | {F(m.PostP50)} | {F(m.PostP99)} | {F(m.Extra?.GetValueOrDefault("deliveries_per_s"), "0")} | {F(m.P99)} | {F(m.CpuMsPer1000, "0.00")} | {m.Signals:N0} | {m.Missing} / {m.Duplicates} / {m.Forbidden} / {m.OutOfOrder} / {m.FailedPosts} |");
            md.AppendLine();
        }
        md.AppendLine("![latency and memory per target](../bench/results/latest.svg)");
        return md.ToString();
    }

    private static string Verdict(bool met) => met ? "**met**" : "**not met**";

    /// <summary>The issues' targets this run measured, met or not, with the figures (medians).</summary>
    private void Targets(StringBuilder md)
    {
        var rows = new List<string>();
        var plain = nameof(TargetKind.SignalStream);
        foreach (var traced in Medians.Where(m => m.Target == nameof(TargetKind.SignalStreamTraced)))
        {
            var off = Find(traced.Scenario, plain);
            if (off is null) continue;
            var cpu = traced.CpuMsPer1000 / off.CpuMsPer1000;
            rows.Add($"| 16 | {traced.Scenario}: every signal traced and exported costs < 5 % more server CPU per delivery | CPU / 1 000 deliveries {F(traced.CpuMsPer1000, "0.00")} ms traced vs {F(off.CpuMsPer1000, "0.00")} ms not ({Ratio(traced.CpuMsPer1000, off.CpuMsPer1000)}); p99 {F(traced.P99)} vs {F(off.P99)} ms ({Ratio(traced.P99, off.P99)}); the sink received {F(traced.Extra?.GetValueOrDefault("otlp_exports"), "0")} exports, {F(traced.Extra?.GetValueOrDefault("otlp_kb"), "0")} KB in the window | {Verdict(cpu < 1.05 && traced.Passed && traced.Extra?.GetValueOrDefault("otlp_kb") > 0)} |");
        }
        // Issue 17 names its fan-out and idle sizes; smaller runs (quick) are no evidence either way.
        foreach (var m in Medians.Where(m => m.Target == plain && m.Scenario is "fanout 3000@20/s" or "fanout 10000@10/s"))
        {
            var ceiling = Find(m.Scenario, nameof(TargetKind.Ceiling));
            if (ceiling is null) continue;
            var cpu = m.CpuMsPer1000 / ceiling.CpuMsPer1000;
            var p99 = m.P99 / ceiling.P99;
            rows.Add($"| 17 | {m.Scenario}: server CPU per delivery ≤ 0.7x the ceiling's, p99 ≤ 0.85x, nothing missing, duplicated, forbidden or out of order | CPU / 1 000 deliveries {F(m.CpuMsPer1000, "0.00")} vs {F(ceiling.CpuMsPer1000, "0.00")} ms ({Ratio(m.CpuMsPer1000, ceiling.CpuMsPer1000)}); p99 {F(m.P99)} vs {F(ceiling.P99)} ms ({Ratio(m.P99, ceiling.P99)}); {(m.Passed ? "all correct" : "errors")} | {Verdict(cpu <= 0.7 && p99 <= 0.85 && m.Passed)} |");
        }
        foreach (var m in Medians.Where(m => m.Target == plain && m.Scenario == "idle 10000"))
            rows.Add($"| 17 | {m.Scenario}: RSS per authenticated connection ≤ 8 KB | {F(m.KbPerConnection)} KB | {Verdict(m.KbPerConnection <= 8 && m.Passed)} |");
        // The fastest fan-out of this run, for the ingest with many subscribers, where fan-out is the bound.
        var fanout = Medians.Where(m => m.Target == plain && m.Scenario.StartsWith("fanout", StringComparison.Ordinal))
            .MaxBy(m => m.Extra?.GetValueOrDefault("deliveries_per_s") ?? 0);
        foreach (var m in Medians.Where(m => m.Target == plain && m.Scenario.StartsWith("ingest", StringComparison.Ordinal)))
        {
            var stored = m.Extra?.GetValueOrDefault("stored_delivered_per_s");
            var deliveries = m.Extra?.GetValueOrDefault("deliveries_per_s");
            var correct = m.Passed ? "every subscriber got every signal it may see, once, in order" : "errors (see below)";
            if (m.Clients >= 1000)
            {
                var versus = fanout is null ? "no fan-out scenario in this run" : $"{Ratio(deliveries, fanout.Extra?.GetValueOrDefault("deliveries_per_s"))} the {F(fanout.Extra?.GetValueOrDefault("deliveries_per_s"), "0")} /s of {fanout.Scenario} (CPU / 1 000 deliveries {F(m.CpuMsPer1000, "0.00")} vs {F(fanout.CpuMsPer1000, "0.00")} ms)";
                rows.Add($"| 17 | {m.Scenario}: deliveries /s against the fan-out scenario's (no threshold) | {F(deliveries, "0")} deliveries /s, {versus}; {F(stored, "0")} signals stored and delivered /s; {correct} | reported |");
                continue;
            }
            var (floor, written) = m.Scenario.Contains("PostgreSQL", StringComparison.Ordinal) ? (2000, "2 000") : (5000, "5 000");
            rows.Add($"| 17 | {m.Scenario}: ≥ {written} stored-and-delivered signals /s, POST p99 ≤ 50 ms, every subscriber every signal once, in seq order | {F(stored, "0")} /s; POST p99 {F(m.PostP99)} ms; {correct} | {Verdict(stored >= floor && m.PostP99 <= 50 && m.Passed)} |");
        }
        if (rows.Count == 0) return;
        md.AppendLine("### Targets (medians of this run)");
        md.AppendLine();
        md.AppendLine("| issue | target | figures | |");
        md.AppendLine("| --: | --- | --- | --- |");
        foreach (var row in rows) md.AppendLine(row);
        md.AppendLine();
    }

    /// <summary>Two panels: latency percentiles per target for each fan-out scenario (log scale), and KB per idle connection.</summary>
    public string Svg()
    {
        var colors = new Dictionary<string, string> { ["Ceiling"] = "#7f8c8d", ["SignalStream"] = "#2e86de", ["SignalStreamTraced"] = "#9b59b6", ["SignalR"] = "#e67e22" };
        var fanouts = Medians.Where(m => m.Scenario.StartsWith("fanout", StringComparison.Ordinal)).GroupBy(m => m.Scenario).ToList();
        var idle = Medians.Where(m => m.Scenario.StartsWith("idle", StringComparison.Ordinal)).ToList();
        string[] pct = ["p50", "p90", "p99", "p99.9"];
        const int panelW = 420, h = 300, top = 50, bottom = 60, left = 55;
        var width = left + Math.Max(1, fanouts.Count) * panelW + 260;
        var svg = new StringBuilder();
        string S(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{h + top + bottom}\" font-family=\"sans-serif\" font-size=\"11\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"100%\" height=\"100%\" fill=\"white\"/><text x=\"10\" y=\"18\" font-size=\"14\" font-weight=\"bold\">SignalStream vs ceiling vs SignalR ({Mode}, {Started} UTC, medians)</text>");
        // legend
        var lx = 10;
        foreach (var (name, color) in colors)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{lx}\" y=\"28\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{lx + 14}\" y=\"37\">{name}</text>");
            lx += 140;
        }
        // latency panels, log10 scale from 1 ms to 10 s
        double Y(double ms) => top + h - (Math.Log10(Math.Clamp(ms, 1, 10_000)) / 4.0) * h;
        var x0 = left;
        foreach (var group in fanouts)
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0}\" y=\"{top - 4}\" font-weight=\"bold\">{group.Key}: latency (ms, log)</text>");
            foreach (var tick in new[] { 1, 10, 100, 1000, 10000 })
                svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" x2=\"{x0 + panelW - 30}\" y1=\"{S(Y(tick))}\" y2=\"{S(Y(tick))}\" stroke=\"#ddd\"/><text x=\"{x0 - 4}\" y=\"{S(Y(tick) + 4)}\" text-anchor=\"end\">{tick}</text>");
            var groupW = (panelW - 40) / pct.Length;
            for (var p = 0; p < pct.Length; p++)
            {
                var gx = x0 + 5 + p * groupW;
                var bars = Order.Select(t => group.FirstOrDefault(m => m.Target == t)).ToList();
                var barW = (groupW - 10) / (double)Order.Length;
                for (var b = 0; b < bars.Count; b++)
                {
                    var m = bars[b];
                    var v = m is null ? null : p switch { 0 => m.P50, 1 => m.P90, 2 => m.P99, _ => m.P999 };
                    if (v is not { } value) continue;
                    var y = Y(value);
                    svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{S(gx + b * barW)}\" y=\"{S(y)}\" width=\"{S(barW - 2)}\" height=\"{S(top + h - y)}\" fill=\"{colors[Order[b]]}\"><title>{Order[b]} {pct[p]} {value} ms</title></rect>");
                    svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{S(gx + b * barW + barW / 2 - 1)}\" y=\"{S(y - 2)}\" text-anchor=\"middle\" font-size=\"8\">{S(value)}</text>");
                }
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{gx + groupW / 2 - 5}\" y=\"{top + h + 14}\" text-anchor=\"middle\">{pct[p]}</text>");
            }
            x0 += panelW;
        }
        // memory panel
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{x0}\" y=\"{top - 4}\" font-weight=\"bold\">{(idle.FirstOrDefault()?.Scenario ?? "idle")}: KB per connection</text>");
        var maxKb = Math.Max(1, idle.Max(m => m.KbPerConnection) ?? 1) * 1.15;
        var measured = Order.Select(t => idle.FirstOrDefault(i => i.Target == t)).Where(m => m?.KbPerConnection is not null).ToList();
        for (var b = 0; b < measured.Count; b++)
        {
            var m = measured[b]!;
            var kb = m.KbPerConnection!.Value;
            var bh = kb / maxKb * h;
            svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{x0 + 10 + b * 70}\" y=\"{S(top + h - bh)}\" width=\"55\" height=\"{S(bh)}\" fill=\"{colors[m.Target]}\"/><text x=\"{x0 + 37 + b * 70}\" y=\"{S(top + h - bh - 3)}\" text-anchor=\"middle\">{S(kb)}</text><text x=\"{x0 + 37 + b * 70}\" y=\"{top + h + 14}\" text-anchor=\"middle\">{m.Target}</text>");
        }
        svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{x0}\" x2=\"{x0 + 220}\" y1=\"{top + h}\" y2=\"{top + h}\" stroke=\"#999\"/>");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
