using SignalStream.Protocol;

namespace SignalStream.Client;

/// <summary>
/// Settings of a <see cref="SignalStreamClient"/>. Every default lives here, in one place; the client
/// validates the options once, when it is constructed.
/// </summary>
/// <remarks>
/// Give exactly one kind of credential: <see cref="TokenProvider"/>, <see cref="Username"/> and
/// <see cref="Password"/>, or <see cref="AccessToken"/>.
/// </remarks>
public sealed class SignalStreamClientOptions
{
    /// <summary>Default of <see cref="ServerUri"/>: the server's default address.</summary>
    public static readonly Uri DefaultServerUri = new("http://localhost:9001");

    /// <summary>Base address of the server (http or https); the stream is opened at <c>/ws/signals</c> under it.</summary>
    public Uri ServerUri { get; set; } = DefaultServerUri;

    /// <summary>
    /// Returns an access token. Called before every connection attempt (so a reconnect never uses a stale
    /// token), when the server announces <c>token_expiring</c> (the new token is sent in-band with
    /// <c>refresh</c>), and when a REST call is answered 401.
    /// </summary>
    public Func<CancellationToken, ValueTask<string>>? TokenProvider { get; set; }

    /// <summary>User name for <c>POST /api/auth/token</c>; use with <see cref="Password"/>.</summary>
    public string? Username { get; set; }

    /// <summary>Password for <c>POST /api/auth/token</c>; use with <see cref="Username"/>.</summary>
    public string? Password { get; set; }

    /// <summary>A fixed access token. It cannot be renewed: once it expires, the client stops.</summary>
    public string? AccessToken { get; set; }

    /// <summary>Server-side symbol filter (for example <c>BTC-USD</c>); null or empty means all symbols.</summary>
    public IReadOnlyList<string>? Symbols { get; set; }

    /// <summary>
    /// Resume point: the first connection replays every visible signal with a greater <c>seq</c>.
    /// Null (the default) starts with the signals that arrive after connecting.
    /// </summary>
    public long? AfterSeq { get; set; }

    /// <summary>
    /// The history <see cref="AfterSeq"/> counts in, as <see cref="SignalStreamClient.Epoch"/> said when it
    /// was saved. When the server's history is another one (a reset or a restored database), the client
    /// starts again from that history's first signal instead of silently skipping up to <see cref="AfterSeq"/>.
    /// Null: checked against the history's last seq only.
    /// </summary>
    public string? Epoch { get; set; }

    /// <summary>Decides whether and when to reconnect. Default: <see cref="ExponentialBackoffReconnectPolicy"/> (3 s doubling to 30 s, full jitter, forever).</summary>
    public IReconnectPolicy ReconnectPolicy { get; set; } = new ExponentialBackoffReconnectPolicy();

    /// <summary>How often the REST list is polled while the WebSocket cannot be opened. Default 2 s.</summary>
    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Page size of REST catch-up and polling requests (the server allows at most 500). Default 500.</summary>
    public int PageSize { get; set; } = 500;

    /// <summary>
    /// Interval of application-level <c>ping</c> frames. Null (the default) uses the server's
    /// <c>heartbeat_ms</c> from <c>welcome</c>. A connection that receives no frame at all for two
    /// intervals is treated as dead and reconnected.
    /// </summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>Heartbeat interval when neither <see cref="HeartbeatInterval"/> nor the server gives one. Default 30 s.</summary>
    public TimeSpan FallbackHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for opening the socket and receiving <c>welcome</c>, and for each REST call (login, catch-up, poll). Default 15 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Client-to-server messages kept while disconnected; past this the oldest is dropped. Default 100.</summary>
    public int OfflineQueueCapacity { get; set; } = 100;

    /// <summary>
    /// Signals buffered for <see cref="SignalStreamClient.ReadAllAsync"/>. When the buffer is full the client
    /// stops reading the socket until the reader catches up (the server may then close the connection as a
    /// slow consumer, and the client resumes without a gap). 0 disables the buffer: use the
    /// <see cref="SignalStreamClient.SignalReceived"/> event only. Default 10 000.
    /// </summary>
    public int ReaderBufferCapacity { get; set; } = 10_000;

    /// <summary>Largest server frame accepted; a bigger one closes the connection (1009) and reconnects. Default 1 MiB.</summary>
    public int MaxFrameBytes { get; set; } = 1024 * 1024;

    /// <summary>Source of time for backoff, heartbeats and timeouts. Tests pass a fake one. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Handler for REST calls (login, catch-up, polling). Null creates a <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is wrong.</summary>
    public void Validate()
    {
        static void Fail(string message) => throw new ArgumentException(message, nameof(SignalStreamClientOptions));

        if (ServerUri is null || !ServerUri.IsAbsoluteUri || ServerUri.Scheme is not ("http" or "https" or "ws" or "wss"))
            Fail("ServerUri must be an absolute http, https, ws or wss address.");
        var kinds = (TokenProvider is null ? 0 : 1) + (AccessToken is null ? 0 : 1) + (Username is null && Password is null ? 0 : 1);
        if (kinds != 1)
            Fail("Give exactly one kind of credential: TokenProvider, Username and Password, or AccessToken.");
        if ((Username is null) != (Password is null) || Username?.Length == 0)
            Fail("Username and Password go together, and the user name must not be empty.");
        if (AccessToken is { Length: 0 })
            Fail("AccessToken must not be empty.");
        if (ReconnectPolicy is null)
            Fail("ReconnectPolicy must not be null.");
        if (TimeProvider is null)
            Fail("TimeProvider must not be null.");
        if (PollingInterval <= TimeSpan.Zero)
            Fail("PollingInterval must be positive.");
        if (PageSize is < 1 or > 500)
            Fail("PageSize must be within 1 to 500.");
        if (HeartbeatInterval is { } hb && hb <= TimeSpan.Zero)
            Fail("HeartbeatInterval must be positive.");
        if (FallbackHeartbeatInterval <= TimeSpan.Zero)
            Fail("FallbackHeartbeatInterval must be positive.");
        if (ConnectTimeout <= TimeSpan.Zero)
            Fail("ConnectTimeout must be positive.");
        if (OfflineQueueCapacity < 0)
            Fail("OfflineQueueCapacity must not be negative.");
        if (ReaderBufferCapacity < 0)
            Fail("ReaderBufferCapacity must not be negative.");
        if (MaxFrameBytes < 1024)
            Fail("MaxFrameBytes must be at least 1024.");
        if (AfterSeq is < 0)
            Fail("AfterSeq must not be negative.");
        if (Symbols is not null && Symbols.Any(string.IsNullOrWhiteSpace))
            Fail("Symbols must not contain empty names.");
    }

    internal static Uri StreamUri(Uri server, long? afterSeq, string? epoch, string[]? symbols)
    {
        var scheme = server.Scheme switch { "https" or "wss" => "wss", _ => "ws" };
        var builder = new UriBuilder(server) { Scheme = scheme, Port = server.IsDefaultPort ? -1 : server.Port };
        builder.Path = builder.Path.TrimEnd('/') + Paths.Stream;
        var query = new List<string>();
        if (afterSeq is { } seq)
            query.Add("after_seq=" + seq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (afterSeq is not null && !string.IsNullOrEmpty(epoch))
            query.Add("epoch=" + Uri.EscapeDataString(epoch));
        if (symbols is { Length: > 0 })
            query.Add("symbols=" + string.Join(',', symbols.Select(Uri.EscapeDataString)));
        builder.Query = string.Join('&', query);
        return builder.Uri;
    }

    internal static Uri HttpBase(Uri server)
    {
        var scheme = server.Scheme switch { "wss" => "https", "ws" => "http", _ => server.Scheme };
        var builder = new UriBuilder(server) { Scheme = scheme, Port = server.IsDefaultPort ? -1 : server.Port, Query = "" };
        if (!builder.Path.EndsWith('/'))
            builder.Path += "/";
        return builder.Uri;
    }
}
