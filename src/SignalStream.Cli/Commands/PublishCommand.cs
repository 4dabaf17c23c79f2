using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SignalStream.Protocol;
using Spectre.Console;

namespace SignalStream.Cli.Commands;

/// <summary><c>signalstream publish</c>: one signal from options, or many from a JSON-lines file or stdin.</summary>
internal static class PublishCommand
{
    private const int MaxRateLimitRetries = 5;
    private const int LiveProgressMinLines = 20;
    private const int PlainProgressEvery = 100;

    public static Command Create(CliContext ctx, Option<string?> url)
    {
        var jsonOption = Settings.JsonOption("Report one JSON object per signal instead of text");
        var key = new Option<string?>("--publisher-key", "--key") { Description = $"Publisher key, sent as X-API-Key [env {Settings.PublisherKeyVariable}]", HelpName = "key" };
        var file = new Option<string?>("--file", "-f") { Description = "A JSON-lines file of signals, one object per line; '-' reads stdin", HelpName = "path" };
        var symbol = new Option<string?>("--symbol") { Description = "Instrument, for example BTC-USD", HelpName = "symbol" };
        var side = new Option<string?>("--side") { Description = "BUY or SELL", HelpName = "side" };
        side.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "BUY", "SELL");
        var source = new Option<string>("--source") { Description = "The publisher's name", HelpName = "name", DefaultValueFactory = _ => "cli" };
        var externalId = new Option<string?>("--external-id") { Description = "The publisher's id, unique per source (default: a new one)", HelpName = "id" };
        var entry = new Option<decimal?>("--entry-price", "--entry") { Description = "Entry price", HelpName = "price" };
        var stopLoss = new Option<decimal?>("--stop-loss") { Description = "Stop loss", HelpName = "price" };
        var takeProfit = new Option<decimal?>("--take-profit") { Description = "Take profit", HelpName = "price" };
        var confidence = new Option<double?>("--confidence") { Description = "Confidence within 0 to 1", HelpName = "value" };
        var timeframe = new Option<string?>("--timeframe") { Description = "Timeframe, for example 1h", HelpName = "tf" };
        var premium = new Option<bool>("--premium") { Description = "Premium signal (min tier PROFESSIONAL)" };
        var minTier = new Option<string?>("--min-tier") { Description = "Lowest tier that sees it: STARTER, PROFESSIONAL or INSTITUTIONAL", HelpName = "tier" };
        minTier.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "STARTER", "PROFESSIONAL", "INSTITUTIONAL");
        var notes = new Option<string?>("--notes") { Description = "Free text", HelpName = "text" };

        var command = new Command("publish", "Publish one signal from options, or many from a JSON-lines file (--file, '-' for stdin). " +
            "Each one is reported as created, duplicate or rejected with the server's reason; a refused line does not stop the rest. " +
            "Exit code 1 when any line was rejected.")
        {
            key, file, symbol, side, source, externalId, entry, stopLoss, takeProfit, confidence, timeframe, premium, minTier, notes, jsonOption,
        };
        command.SetAction(async (parse, ct) =>
        {
            var server = Settings.ResolveUrl(parse, url, ctx);
            var filePath = Settings.NonEmpty(parse.GetValue(file));
            var single = new[] { parse.GetResult(symbol), parse.GetResult(side), parse.GetResult(entry), parse.GetResult(externalId) }.Any(r => r is not null);
            if (filePath is not null && single)
                throw CliException.Usage("give either --file or the signal's options (--symbol, --side, ...), not both");
            if (filePath is null && (parse.GetValue(symbol) is null || parse.GetValue(side) is null))
                throw CliException.Usage("give --file <path|->, or --symbol and --side for one signal");
            var apiKey = Settings.RequireSecret(parse, key, ctx, Settings.PublisherKeyVariable, "publisher key");
            var json = parse.GetValue(jsonOption);

            using var api = new ServerApi(server);
            var reporter = new Reporter(ctx, json);
            if (filePath is null)
            {
                var signal = new JsonObject
                {
                    ["external_id"] = Settings.NonEmpty(parse.GetValue(externalId)) ?? "cli-" + Guid.NewGuid().ToString("N"),
                    ["source"] = parse.GetValue(source),
                    ["symbol"] = parse.GetValue(symbol)!.Trim().ToUpperInvariant(),
                    ["side"] = parse.GetValue(side)!.ToUpperInvariant(),
                };
                Add(signal, "entry_price", parse.GetValue(entry));
                Add(signal, "stop_loss", parse.GetValue(stopLoss));
                Add(signal, "take_profit", parse.GetValue(takeProfit));
                Add(signal, "confidence", parse.GetValue(confidence));
                Add(signal, "timeframe", parse.GetValue(timeframe));
                if (parse.GetValue(premium))
                    signal["premium"] = true;
                Add(signal, "min_tier", parse.GetValue(minTier)?.ToUpperInvariant());
                Add(signal, "notes", parse.GetValue(notes));
                await PublishOneAsync(api, apiKey, reporter, null, signal.ToJsonString(), ct);
                return reporter.Rejected > 0 ? ExitCodes.Failure : ExitCodes.Ok;
            }

            return await PublishFileAsync(api, apiKey, reporter, ctx, filePath, json, ct);
        });
        return command;
    }

    private static void Add<T>(JsonObject target, string name, T? value)
    {
        if (value is not null)
            target[name] = JsonValue.Create(value);
    }

    private static async Task<int> PublishFileAsync(ServerApi api, string apiKey, Reporter reporter, CliContext ctx, string path, bool json, CancellationToken ct)
    {
        var fromStdin = path == "-";
        if (!fromStdin && !File.Exists(path))
            throw CliException.Usage($"no such file: {path}");
        int? total = fromStdin ? null : File.ReadLines(path).Count(l => !string.IsNullOrWhiteSpace(l));
        var reader = fromStdin ? ctx.In : new StreamReader(path);
        try
        {
            // Live progress only where a person watches: on the terminal that shows the results, or on a
            // terminal stderr while results go to a file. Pipes get a plain line every 1000 signals.
            var liveConsole = ctx.OutIsTerminal ? reporter.OutConsole : ctx.ErrIsTerminal ? ctx.CreateErrConsole() : null;
            if (liveConsole is not null && total is >= LiveProgressMinLines)
            {
                await new Progress(liveConsole)
                    .AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .StartAsync(async progress =>
                    {
                        var task = progress.AddTask("publishing", maxValue: total.Value);
                        await PublishLinesAsync(api, apiKey, reporter, reader, () => task.Increment(1), ct);
                    });
            }
            else
            {
                await PublishLinesAsync(api, apiKey, reporter, reader, () =>
                {
                    var done = reporter.Total;
                    if (done % PlainProgressEvery == 0)
                        ctx.Err.WriteLine(total is { } t ? $"progress: {done}/{t} signal(s)" : $"progress: {done} signal(s)");
                }, ct);
            }
        }
        finally
        {
            if (!fromStdin)
                reader.Dispose();
        }
        if (!json || reporter.Rejected > 0 || reporter.Total == 0)
            await ctx.Err.WriteLineAsync(reporter.Summary());
        return reporter.Rejected > 0 ? ExitCodes.Failure : ExitCodes.Ok;
    }

    private static async Task PublishLinesAsync(ServerApi api, string apiKey, Reporter reporter, TextReader reader, Action advanced, CancellationToken ct)
    {
        var lineNumber = 0;
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            JsonNode? node = null;
            string? parseError = null;
            try
            {
                node = JsonNode.Parse(line);
            }
            catch (JsonException ex)
            {
                parseError = $"not valid JSON (the error is at character {ex.BytePositionInLine + 1})";
            }
            if (parseError is null && node is not JsonObject)
                parseError = "not a JSON object: each line is one signal, {\"symbol\": ..., \"side\": ..., ...}";
            if (parseError is not null)
                reporter.Rejected_(lineNumber, null, null, parseError);
            else
                await PublishOneAsync(api, apiKey, reporter, lineNumber, line, ct, ExternalId(node));
            advanced();
        }
    }

    private static string? ExternalId(JsonNode? node) =>
        node?["external_id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>The price rule the server applies (<see cref="PriceRule"/>), checked before sending, in the server's words.</summary>
    private static string? PriceProblem(JsonNode? signal) =>
        signal is JsonObject o
            ? string.Join("; ", PriceRule.Violations(Text(o, "side"), Price(o, "entry_price"), Price(o, "stop_loss"), Price(o, "take_profit"))
                .Select(v => $"{v.Field}: {v.Message}")) is { Length: > 0 } problem ? problem : null
            : null;

    private static string? Text(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static decimal? Price(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<decimal>(out var d) ? d : null;

    private static async Task PublishOneAsync(ServerApi api, string apiKey, Reporter reporter, int? line, string body, CancellationToken ct, string? externalId = null)
    {
        var signal = JsonNode.Parse(body);
        externalId ??= ExternalId(signal);
        if (PriceProblem(signal) is { } priceProblem)
        {
            reporter.Rejected_(line, externalId, null, priceProblem);
            return;
        }
        for (var attempt = 0; ; attempt++)
        {
            ApiResponse response;
            try
            {
                response = await api.SendAsync(HttpMethod.Post, Paths.Ingest, ct, apiKey: apiKey, json: body);
            }
            catch (CliException ex) when (line is not null && reporter.Total > 0)
            {
                throw new CliException(ex.ExitCode, $"{ex.Message}; stopped at line {line} after {reporter.Summary()}");
            }
            ServerApi.EnsureAuthorized(response, "publisher key");
            if (response.Status == 429 && attempt < MaxRateLimitRetries)
            {
                var wait = response.RetryAfter is { } ra && ra > TimeSpan.Zero ? (ra < TimeSpan.FromSeconds(30) ? ra : TimeSpan.FromSeconds(30)) : TimeSpan.FromSeconds(1);
                await Task.Delay(wait, ct);
                continue;
            }
            if (response.IsSuccess && response.Json() is JsonObject result)
            {
                var duplicate = result["duplicate"] is JsonValue d && d.TryGetValue<bool>(out var dup) && dup;
                var seq = result["seq"] is JsonValue s && s.TryGetValue<long>(out var n) ? n : (long?)null;
                var id = result["id"]?.ToString();
                reporter.Accepted(line, externalId, duplicate, seq, id);
                return;
            }
            reporter.Rejected_(line, externalId, response.Status, response.Problem());
            return;
        }
    }

    /// <summary>One result per signal on stdout; counts for the summary.</summary>
    private sealed class Reporter(CliContext ctx, bool json)
    {
        public IAnsiConsole OutConsole { get; } = ctx.CreateOutConsole();
        public int Created { get; private set; }
        public int Duplicates { get; private set; }
        public int Rejected { get; private set; }
        public int Total => Created + Duplicates + Rejected;

        public void Accepted(int? line, string? externalId, bool duplicate, long? seq, string? id)
        {
            if (duplicate) Duplicates++; else Created++;
            var status = duplicate ? "duplicate" : "created";
            if (json)
            {
                Write(new JsonObject
                {
                    ["line"] = line, ["status"] = status, ["external_id"] = externalId, ["id"] = id, ["seq"] = seq,
                });
                return;
            }
            var color = duplicate ? "yellow" : "green";
            OutConsole.MarkupLine($"{Prefix(line)}[{color}]{status}[/] seq {seq?.ToString(CultureInfo.InvariantCulture) ?? "?"} id {Markup.Escape(id ?? "?")}{Ext(externalId)}");
        }

        public void Rejected_(int? line, string? externalId, int? httpStatus, string reason)
        {
            Rejected++;
            if (json)
            {
                Write(new JsonObject
                {
                    ["line"] = line, ["status"] = "rejected", ["external_id"] = externalId, ["http_status"] = httpStatus, ["reason"] = reason,
                });
                return;
            }
            OutConsole.MarkupLine($"{Prefix(line)}[red]rejected[/]{Ext(externalId)}: {Markup.Escape(reason)}");
        }

        public string Summary() => $"{Created} created, {Duplicates} duplicate, {Rejected} rejected";

        private void Write(JsonObject result)
        {
            foreach (var key in result.Where(p => p.Value is null).Select(p => p.Key).ToList())
                result.Remove(key);
            ctx.Out.WriteLine(result.ToJsonString());
        }

        private static string Prefix(int? line) => line is { } n ? $"line {n}: " : "";

        private static string Ext(string? externalId) => externalId is null ? "" : $" ({Markup.Escape(externalId)})";
    }
}
