using System.CommandLine;
using System.CommandLine.Parsing;
using SignalStream.Cli.Commands;
using SignalStream.Client;

namespace SignalStream.Cli;

/// <summary>The <c>signalstream</c> command line: parsing, dispatch, and the mapping of failures to exit codes.</summary>
public static class CliApp
{
    internal const string Description = """
        Tail, publish to and administer a SignalStream server.

        Settings come from options or, when an option is absent, from the environment:
          SIGNALSTREAM_URL            server address (default http://localhost:9001)
          SIGNALSTREAM_TOKEN          access token for tail
          SIGNALSTREAM_USERNAME       user name for tail (with SIGNALSTREAM_PASSWORD)
          SIGNALSTREAM_PASSWORD       password for tail
          SIGNALSTREAM_PUBLISHER_KEY  ingest key for publish
          SIGNALSTREAM_ADMIN_KEY      admin key for users and stats
        Keys, tokens and passwords are never printed. Prefer the environment to options
        for secrets: options are visible in the process list.

        Exit codes:
          0  success
          1  the command ran but something failed (for example a refused publish line)
          2  usage error: a wrong option, a missing argument or key
          3  the server could not be reached, or refused the credentials
        """;

    /// <summary>Runs one command line and returns its exit code. Never throws for user errors.</summary>
    public static async Task<int> RunAsync(string[] args, CliContext ctx, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(ctx);
        var root = BuildRoot(ctx);
        var parse = root.Parse(args);
        var config = new InvocationConfiguration
        {
            Output = ctx.Out,
            Error = ctx.Err,
            EnableDefaultExceptionHandler = false,
        };

        if (args.Length == 0)
        {
            await root.Parse(["--help"]).InvokeAsync(config, cancellationToken).ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        if (parse.Errors.Count > 0)
        {
            await ctx.Err.WriteLineAsync($"error: {OneLine(UsageErrors.Describe(parse))} (see '{CommandPath(parse)} --help')").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException ex)
        {
            await ctx.Err.WriteLineAsync("error: " + OneLine(ex.Message)).ConfigureAwait(false);
            return ex.ExitCode;
        }
        catch (SignalStreamException ex)
        {
            await ctx.Err.WriteLineAsync("error: " + OneLine(ex.Message)).ConfigureAwait(false);
            return ExitCodes.Unavailable;
        }
        catch (OperationCanceledException)
        {
            await ctx.Err.WriteLineAsync("cancelled").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await ctx.Err.WriteLineAsync("error: " + OneLine(ex.Message)).ConfigureAwait(false);
            return ExitCodes.Failure;
        }
#pragma warning disable CA1031 // the last line of defence: one line, never a stack trace
        catch (Exception ex)
        {
            await ctx.Err.WriteLineAsync($"error: {OneLine(ex.Message)} ({ex.GetType().Name})").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
#pragma warning restore CA1031
    }

    internal static RootCommand BuildRoot(CliContext ctx)
    {
        var root = new RootCommand(Description);
        var url = Settings.UrlOption();
        root.Options.Add(url);
        root.Subcommands.Add(TailCommand.Create(ctx, url));
        root.Subcommands.Add(PublishCommand.Create(ctx, url));
        root.Subcommands.Add(UsersCommand.Create(ctx, url));
        root.Subcommands.Add(StatsCommand.Create(ctx, url));
        return root;
    }

    /// <summary>Errors are one line: a message that spans several (some parser messages do) is joined.</summary>
    internal static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is CommandResult command; r = command.Parent)
        {
            if (command.Command is not RootCommand)
                names.Add(command.Command.Name);
        }
        names.Add("signalstream");
        names.Reverse();
        return string.Join(' ', names);
    }
}
