using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using SignalStream.Protocol;
using Spectre.Console;

namespace SignalStream.Cli.Commands;

/// <summary><c>signalstream stats</c>: the server's connection statistics.</summary>
internal static class StatsCommand
{
    public static Command Create(CliContext ctx, Option<string?> url)
    {
        var jsonOption = Settings.JsonOption();
        var adminKey = Settings.AdminKey();
        var command = new Command("stats", "Show connection statistics (GET /ws/stats): connections, active users, users by tier; on a cluster, one row per node and the totals.")
        {
            adminKey, jsonOption,
        };
        command.SetAction(async (parse, ct) =>
        {
            var server = Settings.ResolveUrl(parse, url, ctx);
            // The admin key is optional here: a server may publish its stats.
            var key = Settings.NonEmpty(parse.GetValue(adminKey)) ?? Settings.NonEmpty(ctx.Environment(Settings.AdminKeyVariable));
            using var api = new ServerApi(server);
            var response = await api.SendAsync(HttpMethod.Get, Paths.Stats, ct, apiKey: key);
            if (key is null && response.Status is 401 or 403)
                throw CliException.Usage($"the server wants an admin key for stats: pass --admin-key or set {Settings.AdminKeyVariable}");
            ServerApi.EnsureAuthorized(response, "admin key");
            if (!response.IsSuccess || response.Json() is not JsonObject stats)
                throw CliException.Failure($"stats failed ({response.Problem()})");

            if (parse.GetValue(jsonOption))
            {
                await ctx.Out.WriteLineAsync(stats.ToJsonString());
                return ExitCodes.Ok;
            }
            ctx.CreateOutConsole().Write(stats["nodes"] is JsonArray nodes ? ClusterTable(stats, nodes) : MetricTable(stats));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>One server: every field the server sent, one row each.</summary>
    private static Table MetricTable(JsonObject stats)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        foreach (var (name, value) in Flatten(stats, ""))
            table.AddRow(Markup.Escape(name), Markup.Escape(value));
        return table;
    }

    /// <summary>A cluster: one row per live node and the cluster's totals underneath (a user on two nodes counts on each).</summary>
    internal static Table ClusterTable(JsonObject stats, JsonArray nodes)
    {
        string[] tiers = ["STARTER", "PROFESSIONAL", "INSTITUTIONAL"];
        var table = new Table().Border(TableBorder.Rounded).ShowFooters()
            .AddColumn(new TableColumn("NODE").Footer("[bold]total[/]"))
            .AddColumn(new TableColumn("CONNECTIONS").RightAligned().Footer(Bold(stats["total_connections"])))
            .AddColumn(new TableColumn("ACTIVE USERS").RightAligned().Footer(Bold(stats["active_users"])));
        foreach (var tier in tiers)
            table.AddColumn(new TableColumn(tier).RightAligned().Footer(Bold(stats["users_by_tier"]?[tier])));
        table.AddColumn(new TableColumn("SEEN").Footer(stats["last_seq"] is { } seq ? $"last seq {Markup.Escape(seq.ToString())}" : ""));
        foreach (var node in nodes.OfType<JsonObject>())
        {
            var seen = node["seen_at"] is JsonValue at && at.TryGetValue<DateTimeOffset>(out var time)
                ? time.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)
                : "-";
            table.AddRow([Cell(node["node_id"]), Cell(node["total_connections"]), Cell(node["active_users"]),
                .. tiers.Select(t => Cell(node["users_by_tier"]?[t])), seen]);
        }
        return table;
    }

    private static string Cell(JsonNode? value) => Markup.Escape(value?.ToString() ?? "-");

    private static string Bold(JsonNode? value) => $"[bold]{Cell(value)}[/]";

    private static IEnumerable<(string, string)> Flatten(JsonNode? node, string prefix)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                    foreach (var row in Flatten(value, prefix.Length == 0 ? key : prefix + "." + key))
                        yield return row;
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                    foreach (var row in Flatten(array[i], $"{prefix}[{i}]"))
                        yield return row;
                break;
            default:
                yield return (prefix, node?.ToString() ?? "null");
                break;
        }
    }
}
