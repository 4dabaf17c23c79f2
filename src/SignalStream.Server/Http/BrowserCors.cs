using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;
using SignalStream.Server.Streaming;

namespace SignalStream.Server.Http;

/// <summary>
/// CORS for the endpoints pages call from another origin (token, ticket, the REST list): the platform's
/// middleware, with the same exact origins that may open <c>/ws/signals</c> (<c>WebSockets:AllowedOrigins</c>).
/// Credentials (cookies) are never allowed: the API reads bearer tokens from the Authorization header,
/// so a page needs no cookie, and no origin can ride on a user's cookies. Admin and ingest take keys
/// that never belong in a browser, so they get no CORS at all.
/// </summary>
public static class BrowserCors
{
    public const string Policy = "browser";

    /// <summary>How long a browser may reuse a preflight answer (Chromium caps it at 2 hours).</summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromMinutes(10);

    public static IServiceCollection AddBrowserCors(this IServiceCollection services)
    {
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<WebSocketsOptions>>((cors, websockets) =>
            cors.AddPolicy(Policy, policy => policy
                .WithOrigins(websockets.Value.AllowedOrigins)
                .WithMethods(HttpMethods.Get, HttpMethods.Post)
                .WithHeaders("Authorization", "Content-Type")
                .WithExposedHeaders("Retry-After") // so a page can honour a 429 or 503
                .SetPreflightMaxAge(PreflightMaxAge)
                .DisallowCredentials()));
        return services;
    }

    /// <summary>
    /// An entry of the allow-list is an exact origin, <c>scheme://host[:port]</c>, as browsers send it. A
    /// wildcard is refused: the socket check matches exactly, and CORS must never allow every origin.
    /// </summary>
    public static bool IsExactOrigin(string origin) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && string.Equals(uri.GetLeftPart(UriPartial.Authority), origin, StringComparison.Ordinal);
}
