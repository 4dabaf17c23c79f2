using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Hosting;
using SignalStream.Server.Ingest;
using SignalStream.Server.Observability;
using SignalStream.Server.Users;

namespace SignalStream.Server.Streaming;

/// <summary>
/// <c>/ws/signals</c>: every refusal happens before the upgrade, with a status and a problem body,
/// in this order: not a WebSocket (400), disabled (503), origin (403), credentials (401), account
/// (403), capacity (503), query (400), per-user limit (429). Then the socket is accepted and the
/// connection lives in <see cref="StreamSession"/>.
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
    public async Task HandleAsync(HttpContext context)
    {
        var options = wsOptions.Value;
        var refusal = await AdmitAsync(context, options);
        if (refusal is { } r)
        {
            metrics.UpgradesRefused.WithLabels(r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
            logger.UpgradeRefused(r.Status, r.Title);
            await Problems.Write(context, r.Status, r.Title, r.Detail, r.RetryAfterSeconds);
            return;
        }
    }

    private async Task<Refusal?> AdmitAsync(HttpContext context, WebSocketsOptions options)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            return new(StatusCodes.Status400BadRequest, "A WebSocket upgrade is required", "Connect with a WebSocket client to /ws/signals.");
        if (!options.Enabled)
            return new(StatusCodes.Status503ServiceUnavailable, "WebSockets are disabled on this server", "Poll GET /api/v1/signals instead.", 30);
        if (!OriginPolicy.IsAllowed(context.Request, options.AllowedOrigins))
            return new(StatusCodes.Status403Forbidden, "Origin not allowed", "This page's origin may not open the signal stream.");

        ValidatedToken? identity;
        try { identity = await AuthenticateAsync(context); }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            // A ticket could not be redeemed: on a cluster they live in Redis, which is away.
            return new(StatusCodes.Status503ServiceUnavailable, "Ticket store unavailable", "Try again shortly, or authenticate with an access token.", 5);
        }
        if (identity is null)
            return new(StatusCodes.Status401Unauthorized, "Missing or invalid credentials", "Pass a valid access token (?token= or Authorization: Bearer) or a fresh single-use ?ticket=.");

        Storage.UserRecord? user;
        try { user = await users.GetAsync(identity.Value.UserId, context.RequestAborted); }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            return new(StatusCodes.Status503ServiceUnavailable, "User store unavailable", "Try again shortly.", 5);
        }
        if (user is null) return new(StatusCodes.Status401Unauthorized, "Unknown user", "The token's user does not exist; log in again.");
        if (user.Disabled) return new(StatusCodes.Status403Forbidden, "Account disabled", "This account may not open the signal stream.");

        if (hub.Count >= capacity.MaxConnections)
            return new(StatusCodes.Status503ServiceUnavailable, "Server at connection capacity", "Try again later or another node.", 10);

        var query = context.Request.Query;
        long afterSeq = -1;
        if (query.TryGetValue("after_seq", out var afterText) && (!long.TryParse(afterText, out afterSeq) || afterSeq < 0))
            return new(StatusCodes.Status400BadRequest, "Invalid after_seq", "after_seq must be a non-negative integer.");
        string[]? symbols = null;
        if (query.TryGetValue("symbols", out var symbolText))
        {
            symbols = symbolText.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (symbols.Length > SignalRules.MaxSymbolsPerFilter || !symbols.All(SignalRules.IsValidSymbol))
                return new(StatusCodes.Status400BadRequest, "Invalid symbols", $"symbols is a comma-separated list of at most {SignalRules.MaxSymbolsPerFilter} symbols.");
        }

        var connection = new StreamConnection(user.Id, new ConnectionFilter(user.Tier, ConnectionFilter.ToSymbolSet(symbols)),
            identity.Value.ExpiresAt, options.OutboundQueueCapacity, options.ReplayBufferCapacity, metrics);
        var perUser = limits.Value.ConnectionsPerUser;
        if (!await limiter.TryAcquireAsync(user.Id, perUser)) return TooManyConnections(perUser);
        if (!hub.TryAdd(connection, perUser, out var lastSeq))
        {
            limiter.Release(user.Id);
            return TooManyConnections(perUser);
        }

        try
        {
            // A slow reader's backlog belongs in its bounded queue, not in an autotuned kernel buffer (SendBufferBytes).
            if (options.SendBufferBytes > 0 && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } tcp)
                tcp.SendBufferSize = options.SendBufferBytes;
            var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                DangerousEnableCompression = false, // permessage-deflate: never negotiated
                KeepAliveInterval = options.HeartbeatInterval,
                KeepAliveTimeout = options.HeartbeatInterval, // ping, then one more interval for the pong
            });
            // Sends carry no token (see StreamConnection), so a write stuck past the close timeout ends by aborting the transport.
            using var abortTransport = connection.Aborted.Register(static c => ((HttpContext)c!).Abort(), context);
            await session.RunAsync(socket, connection, user, lastSeq, afterSeq);
        }
        finally
        {
            hub.Remove(connection);
            limiter.Release(user.Id);
        }
        return null;
    }

    private static Refusal TooManyConnections(int perUser) =>
        new(StatusCodes.Status429TooManyRequests, "Too many connections for this user", $"At most {perUser} connections per user across the deployment; close one first.", 5);

    private async Task<ValidatedToken?> AuthenticateAsync(HttpContext context)
    {
        var query = context.Request.Query;
        if (query.TryGetValue("ticket", out var ticket))
        {
            return await tickets.RedeemAsync(ticket.ToString(), context.RequestAborted) is { } redeemed
                ? new ValidatedToken(redeemed.UserId, redeemed.TokenExpiresAt)
                : null;
        }
        if (query.TryGetValue("token", out var token)) return await tokens.ValidateAsync(token.ToString());
        return await tokens.ValidateAsync(BearerToken.From(context.Request));
    }

    private readonly record struct Refusal(int Status, string Title, string Detail, int RetryAfterSeconds = 0);
}

/// <summary>Which pages may open a socket: exact origins only; <c>null</c> never.</summary>
public static class OriginPolicy
{
    /// <summary>
    /// A request without an Origin header is not from a browser page; such a client could send any
    /// origin it liked, so its token is what protects it. With no allow-list configured, only the
    /// server's own origin is allowed.
    /// </summary>
    public static bool IsAllowed(HttpRequest request, string[] allowedOrigins)
    {
        if (!request.Headers.TryGetValue("Origin", out var values)) return true;
        var origin = values.ToString();
        if (origin.Length == 0 || origin == "null") return false;
        return allowedOrigins.Length > 0
            ? allowedOrigins.Contains(origin, StringComparer.Ordinal)
            : string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);
    }
}
