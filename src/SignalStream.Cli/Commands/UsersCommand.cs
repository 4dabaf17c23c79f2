using System.CommandLine;
using System.Text.Json.Nodes;
using SignalStream.Protocol;
using Spectre.Console;

namespace SignalStream.Cli.Commands;

/// <summary><c>signalstream users add|set-tier|disable|enable|list</c> through the admin API.</summary>
internal static class UsersCommand
{
    public static Command Create(CliContext ctx, Option<string?> url)
    {
        var adminKey = Settings.AdminKey();
        adminKey.Recursive = true;

        var users = new Command("users", "Manage users through the admin API (needs the admin key).") { adminKey };
        users.Subcommands.Add(Add(ctx, url, adminKey));
        users.Subcommands.Add(SetTier(ctx, url, adminKey));
        users.Subcommands.Add(SetDisabled(ctx, url, adminKey, disable: true));
        users.Subcommands.Add(SetDisabled(ctx, url, adminKey, disable: false));
        users.Subcommands.Add(List(ctx, url, adminKey));
        return users;
    }

    private static Argument<string> TierArgument(string name) =>
        new Argument<string>(name) { Description = "STARTER, PROFESSIONAL or INSTITUTIONAL" }
            .AcceptOnlyFromAmongIgnoringCase("STARTER", "PROFESSIONAL", "INSTITUTIONAL");

    private static Argument<string> AcceptOnlyFromAmongIgnoringCase(this Argument<string> argument, params string[] values)
    {
        argument.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, values);
        return argument;
    }

    private static Command Add(CliContext ctx, Option<string?> url, Option<string?> adminKey)
    {
        var username = new Argument<string>("username") { Description = "The new user's name" };
        var password = new Option<string?>("--password") { Description = "The new user's password", HelpName = "password" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of stdin" };
        var tier = new Option<string>("--tier") { Description = "STARTER, PROFESSIONAL or INSTITUTIONAL", HelpName = "tier", DefaultValueFactory = _ => "STARTER" };
        tier.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, "STARTER", "PROFESSIONAL", "INSTITUTIONAL");
        var json = Settings.JsonOption();
        var command = new Command("add", "Create a user (POST /api/admin/users).") { username, password, passwordStdin, tier, json };
        command.SetAction(async (parse, ct) =>
        {
            var secret = Settings.NonEmpty(parse.GetValue(password));
            if (parse.GetValue(passwordStdin))
            {
                if (secret is not null)
                    throw CliException.Usage("give either --password or --password-stdin, not both");
                secret = Settings.NonEmpty(await ctx.In.ReadLineAsync(ct));
            }
            if (secret is null)
                throw CliException.Usage("no password: pass --password or --password-stdin");

            var (api, key) = Open(parse, ctx, url, adminKey);
            using var _ = api;
            var body = new JsonObject
            {
                ["username"] = parse.GetValue(username),
                ["password"] = secret,
                ["tier"] = parse.GetValue(tier)!.ToUpperInvariant(),
            };
            var response = await api.SendAsync(HttpMethod.Post, Paths.AdminUsers, ct, apiKey: key, json: body.ToJsonString());
            ServerApi.EnsureAuthorized(response, "admin key");
            if (response.Status == 409)
                throw CliException.Failure($"user '{parse.GetValue(username)}' already exists ({response.Problem()})");
            if (!response.IsSuccess || response.Json() is not JsonObject user)
                throw CliException.Failure($"could not create user '{parse.GetValue(username)}' ({response.Problem()})");
            Print(ctx, parse.GetValue(json), [user], "created");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command SetTier(CliContext ctx, Option<string?> url, Option<string?> adminKey)
    {
        var user = new Argument<string>("user") { Description = "User id or user name" };
        var tier = TierArgument("tier");
        var json = Settings.JsonOption();
        var command = new Command("set-tier", "Change a user's tier; live connections follow within a second.") { user, tier, json };
        command.SetAction((parse, ct) => UpdateAsync(ctx, parse, url, adminKey, json, parse.GetValue(user)!,
            new JsonObject { ["tier"] = parse.GetValue(tier)!.ToUpperInvariant() }, "updated", ct));
        return command;
    }

    private static Command SetDisabled(CliContext ctx, Option<string?> url, Option<string?> adminKey, bool disable)
    {
        var user = new Argument<string>("user") { Description = "User id or user name" };
        var json = Settings.JsonOption();
        var command = new Command(disable ? "disable" : "enable", disable
            ? "Disable a user: live connections are closed (4503) and new ones refused."
            : "Enable a disabled user again.") { user, json };
        command.SetAction((parse, ct) => UpdateAsync(ctx, parse, url, adminKey, json, parse.GetValue(user)!,
            new JsonObject { ["disabled"] = disable }, disable ? "disabled" : "enabled", ct));
        return command;
    }

    private static Command List(CliContext ctx, Option<string?> url, Option<string?> adminKey)
    {
        var json = Settings.JsonOption();
        var command = new Command("list", "List users (GET /api/admin/users).") { json };
        command.SetAction(async (parse, ct) =>
        {
            var (api, key) = Open(parse, ctx, url, adminKey);
            using var _ = api;
            var list = await ListAsync(api, key, ct);
            Print(ctx, parse.GetValue(json), list, null);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static (ServerApi, string) Open(ParseResult parse, CliContext ctx, Option<string?> url, Option<string?> adminKey)
    {
        var server = Settings.ResolveUrl(parse, url, ctx);
        var key = Settings.RequireSecret(parse, adminKey, ctx, Settings.AdminKeyVariable, "admin key");
        return (new ServerApi(server), key);
    }

    private static async Task<List<JsonObject>> ListAsync(ServerApi api, string key, CancellationToken ct)
    {
        var response = await api.SendAsync(HttpMethod.Get, Paths.AdminUsers, ct, apiKey: key);
        ServerApi.EnsureAuthorized(response, "admin key");
        var json = response.Json();
        // An array, or (more generously) an object wrapping one.
        var array = json as JsonArray ?? (json as JsonObject)?.Select(p => p.Value).OfType<JsonArray>().FirstOrDefault();
        if (!response.IsSuccess || array is null)
            throw CliException.Failure($"could not list users ({response.Problem()})");
        return array.OfType<JsonObject>().ToList();
    }

    private static async Task<int> UpdateAsync(CliContext ctx, ParseResult parse, Option<string?> url, Option<string?> adminKey, Option<bool> json, string user, JsonObject body, string verb, CancellationToken ct)
    {
        var (api, key) = Open(parse, ctx, url, adminKey);
        using var _ = api;
        // Accept a user id or a user name: look the name up when it is not an id.
        var users = await ListAsync(api, key, ct);
        var match = users.FirstOrDefault(u => Str(u, "user_id") == user)
            ?? users.FirstOrDefault(u => string.Equals(Str(u, "username"), user, StringComparison.OrdinalIgnoreCase))
            ?? throw CliException.Failure($"no user '{user}'");
        var id = Str(match, "user_id")!;
        var response = await api.SendAsync(HttpMethod.Put, $"{Paths.AdminUsers}/{Uri.EscapeDataString(id)}", ct, apiKey: key, json: body.ToJsonString());
        ServerApi.EnsureAuthorized(response, "admin key");
        if (response.Status == 404)
            throw CliException.Failure($"no user '{user}'");
        if (!response.IsSuccess)
            throw CliException.Failure($"could not update user '{user}' ({response.Problem()})");
        // The server may answer the user or nothing; show what is known either way.
        var updated = response.Json() as JsonObject ?? Merge(match, body);
        Print(ctx, parse.GetValue(json), [updated], verb);
        return ExitCodes.Ok;
    }

    private static JsonObject Merge(JsonObject user, JsonObject changes)
    {
        var merged = (JsonObject)user.DeepClone();
        foreach (var (name, value) in changes)
            merged[name] = value?.DeepClone();
        return merged;
    }

    private static string? Str(JsonObject o, string name) => o[name]?.ToString();

    private static void Print(CliContext ctx, bool json, IReadOnlyList<JsonObject> users, string? verb)
    {
        if (json)
        {
            foreach (var user in users)
            {
                var copy = (JsonObject)user.DeepClone();
                copy.Remove("password"); // never echo a secret, even if a server did
                ctx.Out.WriteLine(copy.ToJsonString());
            }
            return;
        }
        var console = ctx.CreateOutConsole();
        if (verb is not null)
        {
            foreach (var user in users)
                console.MarkupLine($"{verb} user [bold]{Markup.Escape(Str(user, "username") ?? "?")}[/] (id {Markup.Escape(Str(user, "user_id") ?? "?")}, tier {Markup.Escape(Str(user, "tier") ?? "?")}{(user["disabled"] is JsonValue d && d.TryGetValue<bool>(out var disabled) && disabled ? ", disabled" : "")})");
            return;
        }
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("USER ID").AddColumn("USERNAME").AddColumn("TIER").AddColumn("DISABLED");
        foreach (var user in users)
            table.AddRow(Markup.Escape(Str(user, "user_id") ?? ""), Markup.Escape(Str(user, "username") ?? ""),
                Markup.Escape(Str(user, "tier") ?? ""), Markup.Escape(Str(user, "disabled") ?? "false"));
        console.Write(table);
    }
}
