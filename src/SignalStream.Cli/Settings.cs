using System.CommandLine;

namespace SignalStream.Cli;

/// <summary>Options shared by several commands, and their environment variables. Secrets are never printed.</summary>
internal static class Settings
{
    public const string UrlVariable = "SIGNALSTREAM_URL";
    public const string AdminKeyVariable = "SIGNALSTREAM_ADMIN_KEY";
    public const string PublisherKeyVariable = "SIGNALSTREAM_PUBLISHER_KEY";
    public const string TokenVariable = "SIGNALSTREAM_TOKEN";
    public const string UsernameVariable = "SIGNALSTREAM_USERNAME";
    public const string PasswordVariable = "SIGNALSTREAM_PASSWORD";
    public const string DefaultUrl = "http://localhost:9001";

    /// <summary>The server address option, recursive on the root. One instance per parser built.</summary>
    public static Option<string?> UrlOption() => new("--url", "-u")
    {
        Description = $"Server base address [env {UrlVariable}, default {DefaultUrl}]",
        HelpName = "url",
        Recursive = true,
    };

    public static Option<bool> JsonOption(string description = "Write one JSON object per line instead of a table") => new("--json")
    {
        Description = description,
    };

    public static Option<string?> AdminKey() => new("--admin-key")
    {
        Description = $"Admin API key, sent as X-API-Key [env {AdminKeyVariable}]",
        HelpName = "key",
    };

    public static Uri ResolveUrl(ParseResult parse, Option<string?> url, CliContext ctx)
    {
        var text = NonEmpty(parse.GetValue(url)) ?? NonEmpty(ctx.Environment(UrlVariable)) ?? DefaultUrl;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw CliException.Usage($"'{text}' is not an http or https address (--url or {UrlVariable})");
        return uri;
    }

    public static string RequireSecret(ParseResult parse, Option<string?> option, CliContext ctx, string variable, string what)
    {
        return NonEmpty(parse.GetValue(option)) ?? NonEmpty(ctx.Environment(variable))
            ?? throw CliException.Usage($"no {what}: pass {option.Name} or set {variable}");
    }

    public static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
