using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using SignalStream.Client;
using SignalStream.Protocol;
using Spectre.Console;

namespace SignalStream.Cli.Commands;

/// <summary><c>signalstream tail</c>: stream signals to the terminal, resuming after disconnects.</summary>
internal static class TailCommand
{
    public static Command Create(CliContext ctx, Option<string?> url)
    {
        var jsonOption = Settings.JsonOption();
        var token = new Option<string?>("--token") { Description = $"Access token [env {Settings.TokenVariable}]", HelpName = "token" };
        var username = new Option<string?>("--username") { Description = $"Log in as this user [env {Settings.UsernameVariable}]", HelpName = "name" };
        var password = new Option<string?>("--password") { Description = $"Password for --username [env {Settings.PasswordVariable}]", HelpName = "password" };
        var symbols = new Option<string[]>("--symbols", "-s")
        {
            Description = "Only these symbols, comma-separated or repeated (default: all)",
            HelpName = "symbols",
            AllowMultipleArgumentsPerToken = true,
        };
        var afterSeq = new Option<long?>("--after-seq") { Description = "Start by replaying every signal after this seq (default: from now)", HelpName = "seq" };
        var max = new Option<int?>("--max") { Description = "Exit after this many signals", HelpName = "count" };
        var pollingInterval = new Option<double>("--poll-interval")
        {
            Description = "Seconds between REST polls while the WebSocket is refused",
            HelpName = "seconds",
            DefaultValueFactory = _ => 2,
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log the client's internals to stderr" };

        var command = new Command("tail", "Stream signals as they arrive: a table by default, --json for one object per line. " +
            "Connection changes and resumes go to stderr; the stream resumes after disconnects without gaps or repeats.")
        {
            token, username, password, symbols, afterSeq, max, pollingInterval, jsonOption, verbose,
        };
        command.SetAction(async (parse, ct) =>
        {
            var server = Settings.ResolveUrl(parse, url, ctx);
            var options = new SignalStreamClientOptions
            {
                ServerUri = server,
                Symbols = parse.GetValue(symbols)?.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
                AfterSeq = parse.GetValue(afterSeq),
                PollingInterval = TimeSpan.FromSeconds(Positive(parse.GetValue(pollingInterval), "--poll-interval")),
                ReconnectPolicy = new StopWhenRefused(new ExponentialBackoffReconnectPolicy()),
            };
            ApplyCredentials(options, parse.GetValue(token), parse.GetValue(username), parse.GetValue(password), ctx);
            if (options.AfterSeq is < 0)
                throw CliException.Usage("--after-seq must not be negative");
            if (parse.GetValue(max) is < 1)
                throw CliException.Usage("--max must be at least 1");

            var printer = new TailPrinter(ctx, parse.GetValue(jsonOption));
            using var logger = parse.GetValue(verbose) ? new StderrLogger(printer) : null;
            await using var client = new SignalStreamClient(options, logger);
            client.StateChanged += (_, e) => printer.State(e, client, server, options.PollingInterval);
            client.Resumed += (_, e) => printer.Resumed(e);
            client.TierChanged += (_, e) => printer.Tier(e.Tier);

            try
            {
                await client.StartAsync(ct);
            }
            catch (SignalStreamException ex) when (IsRefusal(ex))
            {
                throw await ExplainRefusalAsync(options, ct);
            }
            catch (SignalStreamException ex)
            {
                throw CliException.Unavailable(ex.IsAuthenticationFailure
                    ? $"the server refused the credentials ({ex.Message})"
                    : $"cannot reach the server at {server} ({ex.Message})");
            }

            var limit = parse.GetValue(max);
            var count = 0;
            try
            {
                await foreach (var signal in client.ReadAllAsync(ct))
                {
                    printer.Signal(signal);
                    if (++count == limit)
                        break;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl+C: a normal way to end a tail.
            }
            catch (SignalStreamException ex) when (IsRefusal(ex))
            {
                throw await ExplainRefusalAsync(options, ct);
            }
            catch (SignalStreamException ex)
            {
                throw new CliException(ex.IsAuthenticationFailure ? ExitCodes.Unavailable : ExitCodes.Failure, ex.Message);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The client stopped because the server refused the login or the stream request itself (not a lost connection).</summary>
    private static bool IsRefusal(SignalStreamException ex) =>
        ex.Cause is { Reason: DisconnectReason.Unauthorized } || StopWhenRefused.IsRefusedRequest(ex.Cause);

    /// <summary>
    /// The client knows only the status of a refusal; the server's reason (its problem detail) comes from asking once
    /// more over plain HTTP: the login when there is one, then the stream request. A bad request (such as a bad
    /// <c>--symbols</c>) is a usage error (exit 2); refused credentials and other refusals exit 3.
    /// </summary>
    private static async Task<CliException> ExplainRefusalAsync(SignalStreamClientOptions options, CancellationToken ct)
    {
        using var api = new ServerApi(options.ServerUri);
        var token = options.AccessToken;
        if (token is null)
        {
            var login = await api.SendAsync(HttpMethod.Post, Paths.Token, ct,
                json: JsonSerializer.Serialize(new TokenRequest(options.Username, options.Password), ProtocolJson.Default.TokenRequest));
            if (!login.IsSuccess || login.Json()?["access_token"] is not JsonValue value || !value.TryGetValue<string>(out token))
                return CliException.Unavailable($"the server refused the credentials ({login.Problem()})");
        }
        var query = options.Symbols is { Count: > 0 } symbols ? "?symbols=" + string.Join(',', symbols.Select(Uri.EscapeDataString)) : "";
        var stream = await api.RequestUpgradeAsync(Paths.Stream + query, token, ct);
        return stream.Status switch
        {
            400 => CliException.Usage($"the server refused the stream ({stream.Problem()})"),
            401 or 403 => CliException.Unavailable($"the server refused the credentials ({stream.Problem()})"),
            101 => CliException.Unavailable("the server refused the stream, then accepted it when asked again: try again"),
            _ => CliException.Unavailable($"the server refused the stream ({stream.Problem()})"),
        };
    }

    private static double Positive(double value, string name) =>
        value > 0 && double.IsFinite(value) ? value : throw CliException.Usage($"{name} must be a positive number");

    internal static void ApplyCredentials(SignalStreamClientOptions options, string? token, string? username, string? password, CliContext ctx)
    {
        token = Settings.NonEmpty(token);
        username = Settings.NonEmpty(username);
        password = Settings.NonEmpty(password);
        if (token is not null && (username is not null || password is not null))
            throw CliException.Usage("give either --token or --username/--password, not both");
        if (token is null && username is null && password is null)
        {
            token = Settings.NonEmpty(ctx.Environment(Settings.TokenVariable));
            if (token is null)
            {
                username = Settings.NonEmpty(ctx.Environment(Settings.UsernameVariable));
                password = Settings.NonEmpty(ctx.Environment(Settings.PasswordVariable));
            }
        }
        else if (username is not null && password is null)
        {
            password = Settings.NonEmpty(ctx.Environment(Settings.PasswordVariable));
        }

        if (token is not null)
        {
            options.AccessToken = token;
            return;
        }
        if (username is null)
            throw CliException.Usage($"no credentials: pass --token or --username and --password, or set {Settings.TokenVariable} or {Settings.UsernameVariable} and {Settings.PasswordVariable}");
        if (password is null)
            throw CliException.Usage($"no password for '{username}': pass --password or set {Settings.PasswordVariable}");
        options.Username = username;
        options.Password = password;
    }
}

/// <summary>
/// Retries what may change by waiting (a lost connection, a busy or unavailable server: 408, 429, 5xx) as
/// <paramref name="inner"/> says, and stops at once when the server refuses the stream request itself with any other
/// 4xx (a bad <c>--symbols</c>, a wrong path): asking again would be refused again, forever.
/// </summary>
internal sealed class StopWhenRefused(IReconnectPolicy inner) : IReconnectPolicy
{
    public static bool IsRefusedRequest(ReconnectContext? cause) =>
        cause is { Reason: DisconnectReason.UpgradeRefused, HttpStatusCode: >= 400 and < 500 and not 408 and not 429 };

    public TimeSpan? NextRetryDelay(ReconnectContext context) => IsRefusedRequest(context) ? null : inner.NextRetryDelay(context);
}

/// <summary>Writes signals to stdout and everything else to stderr, one writer at a time.</summary>
internal sealed class TailPrinter
{
    private readonly Lock _lock = new();
    private readonly CliContext _ctx;
    private readonly bool _json;
    private readonly IAnsiConsole _out;
    private readonly IAnsiConsole _err;
    private TailTable? _table; // the columns of the last header written, for _width
    private int? _width;
    private bool _tierAnnounced;

    public TailPrinter(CliContext ctx, bool json)
    {
        _ctx = ctx;
        _json = json;
        _out = ctx.CreateOutConsole();
        _err = ctx.CreateErrConsole();
    }

    public void Signal(Signal signal)
    {
        lock (_lock)
        {
            if (_json)
            {
                _ctx.Out.WriteLine(JsonSerializer.Serialize(signal, ProtocolJson.Default.Signal));
                _ctx.Out.Flush();
                return;
            }
            // A terminal resized during the day gets the columns of its new width, under a new header.
            var width = _ctx.OutWidth?.Invoke();
            if (_table is null || width != _width)
            {
                _table = TailTable.For(width);
                _width = width;
                _out.MarkupLine($"[bold]{Markup.Escape(_table.HeaderLine())}[/]");
            }
            var side = signal.Side.Equals("BUY", StringComparison.OrdinalIgnoreCase) ? "green" : "red";
            _out.MarkupLine(TailTable.Joined(_table.Cells(signal).Select(cell => cell.Header == "SIDE"
                ? $"[{side}]{Markup.Escape(cell.Text)}[/]"
                : Markup.Escape(cell.Text))));
        }
    }

    public void State(ConnectionStateChangedEventArgs e, SignalStreamClient client, Uri url, TimeSpan pollingInterval)
    {
        var text = e.State switch
        {
            ConnectionState.Connecting => $"connecting to {url}",
            ConnectionState.Connected => $"connected{(client.Tier is { } tier ? $" as {tier.ToWire()}" : "")}" +
                (e.PreviousState is ConnectionState.Connecting ? $", live after seq {e.LastSeq}" : $", resuming after seq {e.LastSeq}"),
            ConnectionState.Reconnecting => e.PreviousState == ConnectionState.Reconnecting
                ? $"reconnect failed ({Cause(e.Cause)}); retrying in {Seconds(e.RetryDelay)}"
                : $"connection lost ({Cause(e.Cause)}); reconnecting in {Seconds(e.RetryDelay)}",
            ConnectionState.Polling => $"websocket unavailable ({Cause(e.Cause)}); polling every {Seconds(pollingInterval)}, next websocket attempt in {Seconds(e.RetryDelay)}",
            ConnectionState.Disconnected => e.Cause is null ? "disconnected" : $"disconnected ({Cause(e.Cause)})",
            _ => e.State.ToString(),
        };
        Note(e.Timestamp, text);
    }

    public void Resumed(ResumedEventArgs e) => Note(DateTimeOffset.Now, e.Source == ResumeSource.Replay
        ? $"resumed after seq {e.AfterSeq}: {e.Count} signal(s) replayed"
        : $"caught up {e.Count} signal(s) after seq {e.AfterSeq} from the REST list");

    public void Tier(Tier tier)
    {
        if (_tierAnnounced)
            Note(DateTimeOffset.Now, $"tier changed to {tier.ToWire()}");
        _tierAnnounced = true;
    }

    public void Note(DateTimeOffset at, string text)
    {
        lock (_lock)
        {
            var line = $"-- {at.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {text}";
            _err.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
        }
    }

    private static string Seconds(TimeSpan? delay) => delay is { } d ? d.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s" : "?";

    internal static string Cause(ReconnectContext? cause) => cause switch
    {
        null => "unknown",
        { CloseStatus: { } code } => $"close {code}{(string.IsNullOrEmpty(cause.CloseDescription) ? "" : " " + cause.CloseDescription)}",
        { HttpStatusCode: { } status } => $"HTTP {status}",
        { Reason: DisconnectReason.HeartbeatTimeout } => "no heartbeat answer",
        { Exception: { } ex } => ex.InnerException?.Message ?? ex.Message,
        _ => cause.Reason.ToString(),
    };
}

/// <summary>A minimal logger for <c>--verbose</c>: the client's log lines on stderr.</summary>
internal sealed class StderrLogger(TailPrinter printer) : ILogger, IDisposable
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var text = $"[{logLevel}] {eventId.Name}: {formatter(state, exception)}";
        if (exception is not null)
            text += $" ({exception.GetType().Name}: {exception.Message})";
        printer.Note(DateTimeOffset.Now, text);
    }

    public void Dispose()
    {
    }
}
