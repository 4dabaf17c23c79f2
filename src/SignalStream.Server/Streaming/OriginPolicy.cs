namespace SignalStream.Server.Streaming;

/// <summary>Which pages may open a socket: exact origins only; <c>null</c> never.</summary>
public static class OriginPolicy
{
    /// <summary>
    /// A request without an Origin header is not from a browser page; such a client could send any
    /// origin it liked, so its token is what protects it. With no allow-list configured, only the
    /// server's own origin is allowed.
    /// </summary>
    /// <param name="origin">The Origin header; null when there is none.</param>
    /// <param name="ownOrigin">This server's origin as the request addressed it (<c>http://host:port</c>).</param>
    public static bool IsAllowed(string? origin, string ownOrigin, string[] allowedOrigins)
    {
        if (origin is null) return true;
        if (origin.Length == 0 || origin == "null") return false;
        return allowedOrigins.Length > 0
            ? allowedOrigins.Contains(origin, StringComparer.Ordinal)
            : string.Equals(origin, ownOrigin, StringComparison.OrdinalIgnoreCase);
    }
}
