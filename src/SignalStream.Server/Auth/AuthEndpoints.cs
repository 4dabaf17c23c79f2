using System.Text.Json;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Http;
using SignalStream.Server.Storage;
using SignalStream.Server.Users;

namespace SignalStream.Server.Auth;

public static class AuthEndpoints
{
    private const int MaxBodyBytes = 8 * 1024;
    private static readonly TimeSpan BodyTimeout = TimeSpan.FromSeconds(10);

    public static void MapAuth(this IEndpointRouteBuilder app)
    {
        app.MapPost(Paths.Token, IssueTokenAsync);
        app.MapPost(Paths.WsTicket, IssueTicketAsync);
    }

    /// <summary>
    /// Password login; or, with a bearer token and no body, a new token: for one of ours that is
    /// still valid (a browser session extends itself), or in exchange for a trusted external issuer's.
    /// </summary>
    private static async Task<IResult> IssueTokenAsync(HttpContext context, IUserStore store, Passwords passwords, ExternalTokens external, TokenService tokens, LoginThrottle throttle)
    {
        UserRecord? user;
        var address = context.Connection.RemoteIpAddress;
        try
        {
            if (BearerToken.From(context.Request) is { } bearer && context.Request.ContentLength is null or 0)
            {
                if (await tokens.ValidateAsync(bearer) is { } ours)
                {
                    user = await store.FindByIdAsync(ours.UserId, context.RequestAborted);
                    if (user is null) return Problems.Result(StatusCodes.Status401Unauthorized, "Unknown user", "Log in again.");
                    return Issue(user, tokens);
                }
                if (await throttle.RetryAfterAsync(null, address) is { } wait) return TooManyFailures(wait);
                var username = await external.ValidateAsync(bearer);
                if (username is null)
                {
                    await throttle.FailedAsync(null, address, context.RequestAborted);
                    return Problems.Result(StatusCodes.Status401Unauthorized, "Token not accepted for exchange", "The bearer token is not from a trusted issuer, or is expired.");
                }
                user = await store.FindByUsernameAsync(username, context.RequestAborted);
                if (user is null) return Problems.Result(StatusCodes.Status403Forbidden, "No account for this identity", "Ask an administrator to create the user.");
            }
            else
            {
                var (document, refusal) = await JsonBody.ReadAsync(context.Request, MaxBodyBytes, BodyTimeout);
                if (refusal is not null) return refusal;
                TokenRequest? request;
                using (document)
                {
                    try { request = document!.RootElement.Deserialize(ProtocolJson.Default.TokenRequest); }
                    catch (JsonException) { request = null; }
                }
                if (request is not { Username: { Length: > 0 } name, Password: { Length: > 0 } password })
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["username"] = ["username and password are required strings"] }, title: "username and password are required");
                // Checked before the lookup, and counted for unknown usernames too: the answers never say which exist.
                if (await throttle.RetryAfterAsync(name, address) is { } wait) return TooManyFailures(wait);
                user = await store.FindByUsernameAsync(name, context.RequestAborted);
                if (!passwords.Verify(user?.PasswordHash, password) || user is null)
                {
                    await throttle.FailedAsync(name, address, context.RequestAborted);
                    return Problems.Result(StatusCodes.Status401Unauthorized, "Wrong username or password");
                }
            }
        }
        catch (IdentityProviderUnavailableException)
        {
            return Problems.Result(StatusCodes.Status503ServiceUnavailable, "Identity provider unavailable",
                "The trusted issuer's keys cannot be fetched right now; retry shortly.", 5);
        }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            return Problems.StorageUnavailable();
        }
        return Issue(user, tokens);
    }

    private static IResult TooManyFailures(TimeSpan wait) => Problems.Result(StatusCodes.Status429TooManyRequests, "Too many failed attempts",
        "Logins from this address or for this username are paused; try again after Retry-After seconds.", (int)Math.Ceiling(wait.TotalSeconds));

    private static IResult Issue(UserRecord user, TokenService tokens) => user.Disabled
        ? Problems.Result(StatusCodes.Status403Forbidden, "Account disabled")
        : Results.Json(new TokenResponse(tokens.Issue(user.Id), "Bearer", (int)tokens.Lifetime.TotalSeconds, user.Id, user.Tier), ProtocolJson.Default.TokenResponse);

    private static async Task<IResult> IssueTicketAsync(HttpContext context, TokenService tokens, ITicketStore tickets, UserDirectory users, IOptions<AuthOptions> options)
    {
        var (user, refusal) = await CurrentUser.ResolveAsync(context, tokens, users);
        if (user is null) return refusal!;
        string ticket;
        try { ticket = await tickets.IssueAsync(user.Value.User.Id, user.Value.Token.ExpiresAt, context.RequestAborted); }
        catch (Exception e) when (Problems.IsOutage(e))
        {
            // On a cluster tickets live in Redis; while it is away, say so instead of failing with a 500.
            return Problems.Result(StatusCodes.Status503ServiceUnavailable, "Ticket store unavailable", "Retry shortly, or connect with an access token instead.", 5);
        }
        return Results.Json(new TicketResponse(ticket, (int)options.Value.TicketLifetime.TotalSeconds), ProtocolJson.Default.TicketResponse);
    }
}

/// <summary>The user behind a request's bearer token, with the tier from our store, never from a claim.</summary>
public static class CurrentUser
{
    public static async Task<((UserRecord User, ValidatedToken Token)? User, IResult? Refusal)> ResolveAsync(HttpContext context, TokenService tokens, UserDirectory users)
    {
        if (await tokens.ValidateAsync(BearerToken.From(context.Request)) is not { } token)
            return (null, Problems.Result(StatusCodes.Status401Unauthorized, "Missing or invalid access token", "Send Authorization: Bearer <token> from POST /api/auth/token."));
        UserRecord? user;
        try { user = await users.GetAsync(token.UserId, context.RequestAborted); }
        catch (Exception e) when (Problems.IsOutage(e)) { return (null, Problems.StorageUnavailable()); }
        if (user is null) return (null, Problems.Result(StatusCodes.Status401Unauthorized, "Unknown user", "Log in again."));
        if (user.Disabled) return (null, Problems.Result(StatusCodes.Status403Forbidden, "Account disabled"));
        return ((user, token), null);
    }
}
