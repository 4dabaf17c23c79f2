using System.CommandLine;
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
        var command = new Command("stats", "Show connection statistics (GET /ws/stats): connections, active users, users by tier.")
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
            var table = new Table().Border(TableBorder.Rounded).AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
            foreach (var (name, value) in Flatten(stats, ""))
                table.AddRow(Markup.Escape(name), Markup.Escape(value));
            ctx.CreateOutConsole().Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

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
