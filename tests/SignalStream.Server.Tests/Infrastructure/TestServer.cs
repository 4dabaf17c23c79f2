using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Protocol;
using SignalStream.Server.Hosting;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// The real server on a loopback port with its own SQLite file, known keys and captured logs.
/// Extra settings go in as command-line arguments, exactly as an operator would give them.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-0123456789";
    public const string PublisherKey = "test-publisher-key-0123456789";
    public const string SigningKey = "test-signing-key-0123456789-0123456789-abcdef";
    public const string Password = "correct horse battery";

    /// <summary>Everything every test server logged, for the secrets scan.</summary>
    public static readonly ConcurrentQueue<string> AllLogs = new();

    /// <summary>Every token, ticket and key the tests handed to a server, for the secrets scan.</summary>
    public static readonly ConcurrentDictionary<string, bool> IssuedSecrets = new(StringComparer.Ordinal);

    /// <summary>Registers a secret the logs must never contain (ignores short strings that could occur by chance).</summary>
    public static string RememberSecret(string secret)
    {
        if (secret.Length >= 16) IssuedSecrets.TryAdd(secret, true);
        return secret;
    }

    private readonly WebApplication _app;
    private int _userCounter;

    private TestServer(WebApplication app, string dataDirectory, ConcurrentQueue<string> logs)
    {
        _app = app;
        Logs = logs;
        DataDirectory = dataDirectory;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUri = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        // A test server over TLS has a certificate the test made itself (KestrelTlsTests).
        Http = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } })
        {
            BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public Uri BaseUri { get; }
    public HttpClient Http { get; }
    public string DataDirectory { get; }
    public IServiceProvider Services => _app.Services;
    /// <summary>What this server logged.</summary>
    public ConcurrentQueue<string> Logs { get; }

    public Uri WsUri(string query = "") =>
        new($"{(BaseUri.Scheme == "https" ? "wss" : "ws")}://{BaseUri.Authority}{Paths.Stream}{(query.Length > 0 ? "?" + query : "")}");

    public static async Task<TestServer> StartAsync(params string[] settings)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N"));
        return await StartAsync(dataDirectory, settings);
    }

    /// <summary>Starts with <paramref name="configure"/> having the last word on services (fault injection, a fake clock).</summary>
    public static async Task<TestServer> StartAsync(Action<WebApplicationBuilder> configure, params string[] settings)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "signalstream-tests", Guid.NewGuid().ToString("N"));
        return await StartAsync(dataDirectory, settings, configure: configure);
    }

    /// <summary>
    /// Starts on <paramref name="clock"/>: the server's timers (connection sweeps, the user change feed) and its
    /// token and ticket times follow it, so a test moves time where it would otherwise race a wall clock.
    /// </summary>
    public static Task<TestServer> StartAsync(FakeTimeProvider clock, params string[] settings) =>
        StartAsync(b => b.Services.AddSingleton<TimeProvider>(clock), settings);

    /// <param name="console">Where the server prints to its console (generated keys, demo passwords); nowhere by default.</param>
    public static async Task<TestServer> StartAsync(string dataDirectory, string[] settings, int port = 0, Action<WebApplicationBuilder>? configure = null, TextWriter? console = null)
    {
        string[] args =
        [
            $"--urls=http://127.0.0.1:{port}",
            $"--Data:Directory={dataDirectory}",
            $"--Auth:AdminApiKey={AdminKey}",
            $"--Auth:PublisherApiKey={PublisherKey}",
            $"--Auth:SigningKey={SigningKey}",
            "--Logging:LogLevel:Default=Debug",
            "--Logging:LogLevel:Microsoft.AspNetCore=Information",
            "--Logging:LogLevel:SignalStream.Server.Observability.RequestLogging=Information",
            .. settings,
        ];
        var logs = new ConcurrentQueue<string>();
        console ??= TextWriter.Null;
        var app = ServerApp.Build(args, console, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton<ILoggerProvider>(sp => new CapturingLoggerProvider(logs, ConfiguredJsonFormatter(sp)));
            configure?.Invoke(builder);
        });
        await ServerApp.PrepareAsync(app, console);
        await app.StartAsync();
        return new TestServer(app, dataDirectory, logs);
    }

    public T Get<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try { await _app.StopAsync(); } catch (ObjectDisposedException) { }
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }

    // ---- users and tokens ----

    public async Task<TestUser> CreateUserAsync(Tier tier, string? username = null)
    {
        username ??= $"user{Interlocked.Increment(ref _userCounter)}-{tier.ToWire().ToLowerInvariant()}";
        using var request = AdminRequest(HttpMethod.Post, Paths.AdminUsers, new { username, password = Password, tier = tier.ToWire() });
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var user = (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.UserResponse))!;
        var token = await LoginAsync(username);
        return new TestUser(user.UserId, username, tier, token);
    }

    public async Task<string> LoginAsync(string username, string password = Password)
    {
        using var response = await Http.PostAsJsonAsync(Paths.Token, new { username, password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return RememberSecret((await response.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse))!.AccessToken);
    }

    /// <summary>A single-use WebSocket ticket bought with <paramref name="token"/>.</summary>
    public async Task<string> TicketAsync(string token)
    {
        using var request = UserRequest(HttpMethod.Post, Paths.WsTicket, token);
        using var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return RememberSecret((await response.Content.ReadFromJsonAsync(ProtocolJson.Default.TicketResponse))!.Ticket);
    }

    public async Task<HttpResponseMessage> UpdateUserAsync(string userId, object change)
    {
        using var request = AdminRequest(HttpMethod.Put, $"{Paths.AdminUsers}/{userId}", change);
        return await Http.SendAsync(request);
    }

    public static HttpRequestMessage AdminRequest(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-API-Key", AdminKey);
        if (body is not null) request.Content = JsonContent.Create(body);
        return request;
    }

    public static HttpRequestMessage UserRequest(HttpMethod method, string path, string token)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    // ---- publishing ----

    private int _signalCounter;

    public static object NewSignal(string? externalId = null, string symbol = "BTC-USD", bool premium = false, Tier? minTier = null, string source = "test-source", string? notes = null) => new
    {
        external_id = externalId ?? Guid.NewGuid().ToString("N"),
        source,
        symbol,
        side = "BUY",
        entry_price = 65000.5,
        stop_loss = 64000,
        take_profit = 68000,
        confidence = 0.82,
        timeframe = "1h",
        premium,
        min_tier = minTier?.ToWire(),
        notes,
        generated_at = "2026-11-25T17:00:00.000Z",
    };

    public async Task<HttpResponseMessage> PostSignalAsync(object body, string? key = PublisherKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = JsonContent.Create(body) };
        if (key is not null) request.Headers.Add("X-API-Key", key);
        return await Http.SendAsync(request);
    }

    /// <summary>Publishes and asserts 201; answers the seq.</summary>
    public async Task<long> PublishAsync(string symbol = "BTC-USD", Tier minTier = Tier.Starter, string? externalId = null, string? notes = null)
    {
        Interlocked.Increment(ref _signalCounter);
        using var response = await PostSignalAsync(NewSignal(externalId, symbol, minTier: minTier, notes: notes));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse))!.Seq;
    }

    // ---- sockets ----

    public async Task<TestSocket> ConnectAsync(string token, string query = "", string? origin = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        if (origin is not null) socket.Options.SetRequestHeader("Origin", origin);
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await socket.ConnectAsync(WsUri(query), timeout.Token);
        return new TestSocket(socket);
    }

    /// <summary>Connects and reads the welcome.</summary>
    public async Task<(TestSocket Socket, ServerMessage Welcome)> ConnectWelcomedAsync(string token, string query = "")
    {
        var socket = await ConnectAsync(token, query);
        var welcome = await socket.ExpectAsync(MessageTypes.Welcome);
        return (socket, welcome);
    }

    /// <summary>An upgrade by the raw client: its status, headers and problem body are all visible.</summary>
    public Task<RawWebSocket> ConnectRawAsync(string query = "", string? bearer = null, string? origin = null, IEnumerable<(string, string)>? headers = null, int receiveBufferBytes = 0, RawHandshake? style = null)
    {
        var all = new List<(string, string)>(headers ?? []);
        if (bearer is not null) all.Add(("Authorization", $"Bearer {bearer}"));
        if (origin is not null) all.Add(("Origin", origin));
        return RawWebSocket.ConnectAsync(BaseUri, Paths.Stream + (query.Length > 0 ? "?" + query : ""), all, receiveBufferBytes, style);
    }

    /// <summary>Attempts an upgrade and answers the HTTP status of a refusal (101 when accepted).</summary>
    public async Task<(HttpStatusCode Status, string Body)> TryUpgradeAsync(string query = "", string? bearer = null, string? origin = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (bearer is not null) socket.Options.SetRequestHeader("Authorization", $"Bearer {bearer}");
        if (origin is not null) socket.Options.SetRequestHeader("Origin", origin);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await socket.ConnectAsync(WsUri(query), timeout.Token);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            return (HttpStatusCode.SwitchingProtocols, "");
        }
        catch (WebSocketException)
        {
            // The body of a refused upgrade is not exposed by ClientWebSocket; ask again over plain HTTP for it.
            return (socket.HttpStatusCode, "");
        }
    }

    /// <summary>The server's own JSON console formatter, when it was started with <c>--log-format json</c>.</summary>
    private static ConsoleFormatter? ConfiguredJsonFormatter(IServiceProvider services) =>
        services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName == ConsoleFormatterNames.Json
            ? services.GetServices<ConsoleFormatter>().First(f => f.Name == ConsoleFormatterNames.Json)
            : null;

    /// <summary>
    /// Keeps every log line. With <c>--log-format json</c> a line is exactly what the console would print (the
    /// server's formatter, with the scopes the platform adds: trace and span ids); otherwise level, category,
    /// message and every value.
    /// </summary>
    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> sink, ConsoleFormatter? json) : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, sink, json, () => _scopes);
        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
        public void Dispose() { }
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> sink, ConsoleFormatter? json, Func<IExternalScopeProvider> scopes) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => scopes().Push(state);
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (json is not null)
            {
                using var writer = new StringWriter();
                json.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), scopes(), writer);
                Keep(writer.ToString().TrimEnd());
                return;
            }
            var line = new StringBuilder().Append(logLevel).Append(' ').Append(category).Append(": ").Append(formatter(state, exception));
            if (exception is not null) line.Append(' ').Append(exception);
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
                foreach (var (key, value) in values) line.Append(' ').Append(key).Append('=').Append(value);
            Keep(line.ToString());
        }

        private void Keep(string text)
        {
            sink.Enqueue(text);
            AllLogs.Enqueue(text);
        }
    }
}
