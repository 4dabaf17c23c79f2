using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Fanout;
using SignalStream.Server.Http;
using SignalStream.Server.Observability;
using SignalStream.Server.Transport;
using SignalStream.Server.Users;

namespace SignalStream.Server.Streaming;

/// <summary>
/// <c>/ws/signals</c>: every refusal happens before the upgrade, with a status and a problem body,
/// in this order: not a WebSocket (400), disabled (503), origin (403), credentials (401), account
/// (403), capacity (503), query (400), per-user limit (429). Then the socket is accepted and the
/// connection lives in <see cref="StreamSession"/>. A request arrives either straight from the
/// connection (<see cref="ConnectionUpgrade"/>, the usual way) or through the HTTP pipeline
/// (<see cref="HandleAsync"/>); both are admitted here, and every refusal is written by the pipeline.
/// </summary>
public sealed class StreamEndpoint(
    IOptions<WebSocketsOptions> wsOptions,
    IOptions<LimitsOptions> limits,
    TokenService tokens,
    ITicketStore tickets,
    UserDirectory users,
    ConnectionHub hub,
    IConnectionLimiter limiter,
    Capacity capacity,
    StreamSession session,
    ServerMetrics metrics,
    ILogger<StreamEndpoint> logger)
{
    /// <summary>The HTTP pipeline's way in; also answers the refusals <see cref="ConnectionUpgrade"/> hands over.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var transport = new HttpStreamTransport(context);
        var admission = HandedOverRefusal.Take(context) is { } handedOver ? new Admission(null, handedOver) : await AdmitAsync(UpgradeRequest.From(context), transport);
        if (admission.Refusal is { } r) await Problems.Write(context, r.Status, r.Title, r.Detail, r.RetryAfterSeconds);
        else await RunAsync(admission.Admitted!.Value, transport);
    }

    /// <summary>
    /// Admits the request, taking its connection slot, or refuses it (counted and logged here). An admitted
    /// stream goes straight on to <see cref="RunAsync"/>, which gives the slot back; the request itself,
    /// token and all, is not kept.
    /// </summary>
    public async Task<Admission> AdmitAsync(UpgradeRequest request, IStreamTransport transport)
    {
        var admission = await TryAdmitAsync(request, transport, wsOptions.Value);
        if (admission.Refusal is { } r)
        {
            metrics.UpgradesRefused.WithLabels(r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            logger.UpgradeRefused(r.Status, r.Title);
        }
        return admission;
    }

    /// <summary>Accepts the socket and runs the connection to its end, then gives its slot back.</summary>
    public Task RunAsync(AdmittedStream admitted, IStreamTransport transport) => session.RunAsync(admitted, transport);

    private async Task<Admission> TryAdmitAsync(UpgradeRequest request, IStreamTransport transport, WebSocketsOptions options)
    {
        if (!request.IsWebSocket)
            return Refuse(StatusCodes.Status400BadRequest, "A WebSocket upgrade is required", "Connect with a WebSocket client to /ws/signals.");
        if (!options.Enabled)
            return Refuse(StatusCodes.Status503ServiceUnavailable, "WebSockets are disabled on this server", "Poll GET /api/v1/signals instead.", 30);
        if (!OriginPolicy.IsAllowed(request.Origin, request.OwnOrigin, options.AllowedOrigins))
            return Refuse(StatusCodes.Status403Forbidden, "Origin not allowed", "This page's origin may not open the signal stream.");

        ValidatedToken? identity;
        try { identity = await AuthenticateAsync(request, transport.Closed); }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            // A ticket could not be redeemed: on a cluster they live in Redis, which is away.
            return Refuse(StatusCodes.Status503ServiceUnavailable, "Ticket store unavailable", "Try again shortly, or authenticate with an access token.", 5);
        }
        if (identity is null)
            return Refuse(StatusCodes.Status401Unauthorized, "Missing or invalid credentials", "Pass a valid access token (?token= or Authorization: Bearer) or a fresh single-use ?ticket=.");

        Storage.UserRecord? user;
        try { user = await users.GetAsync(identity.Value.UserId, transport.Closed); }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            return Refuse(StatusCodes.Status503ServiceUnavailable, "User store unavailable", "Try again shortly.", 5);
        }
        if (user is null) return Refuse(StatusCodes.Status401Unauthorized, "Unknown user", "The token's user does not exist; log in again.");
        if (user.Disabled) return Refuse(StatusCodes.Status403Forbidden, "Account disabled", "This account may not open the signal stream.");

        if (hub.Count >= capacity.MaxConnections) return AtCapacity(); // early, before the cluster's limiter; TryAdd decides

        var query = request.Query;
        long afterSeq = -1;
        if (query.TryGetValue("after_seq", out var afterText) && (!long.TryParse(afterText, out afterSeq) || afterSeq < 0))
            return Refuse(StatusCodes.Status400BadRequest, "Invalid after_seq", "after_seq must be a non-negative integer.");
        string[]? symbols = null;
        if (query.TryGetValue("symbols", out var symbolText))
        {
            symbols = symbolText.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (symbols.Length > SymbolRule.MaxPerFilter || !symbols.All(SymbolRule.IsValidSymbol))
                return Refuse(StatusCodes.Status400BadRequest, "Invalid symbols", $"symbols is a comma-separated list of at most {SymbolRule.MaxPerFilter} symbols.");
        }

        var connection = new StreamConnection(user.Id, new ConnectionFilter(user.Tier, ConnectionFilter.ToSymbolSet(symbols)),
            identity.Value.ExpiresAt, options.OutboundQueueCapacity, options.ReplayBufferCapacity, metrics);
        var perUser = limits.Value.ConnectionsPerUser;
        // The slot taken here is given back by StreamSession, once the connection ends.
        if (!await limiter.TryAcquireAsync(user.Id, perUser)) return TooManyConnections(perUser);
        var entry = hub.TryAdd(connection, perUser, capacity.MaxConnections, out var lastSeq);
        if (entry != HubEntry.Added)
        {
            await limiter.ReleaseAsync(user.Id);
            return entry == HubEntry.AtCapacity ? AtCapacity() : TooManyConnections(perUser);
        }
        return new Admission(new AdmittedStream(connection, user, lastSeq, afterSeq), null);
    }

    private static Admission Refuse(int status, string title, string detail, int retryAfterSeconds = 0) =>
        new(null, new StreamRefusal(status, title, detail, retryAfterSeconds));

    private static Admission AtCapacity() =>
        Refuse(StatusCodes.Status503ServiceUnavailable, "Server at connection capacity", "Try again later or another node.", 10);

    private static Admission TooManyConnections(int perUser) =>
        Refuse(StatusCodes.Status429TooManyRequests, "Too many connections for this user", $"At most {perUser} connections per user across the deployment; close one first.", 5);

    private async Task<ValidatedToken?> AuthenticateAsync(UpgradeRequest request, CancellationToken ct)
    {
        var query = request.Query;
        if (query.TryGetValue("ticket", out var ticket))
        {
            return await tickets.RedeemAsync(ticket.ToString(), ct) is { } redeemed
                ? new ValidatedToken(redeemed.UserId, redeemed.TokenExpiresAt)
                : null;
        }
        if (query.TryGetValue("token", out var token)) return await tokens.ValidateAsync(token.ToString());
        return await tokens.ValidateAsync(BearerToken.From(request.Authorization));
    }
}
