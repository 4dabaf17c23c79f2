namespace SignalStream.Server.Auth;

/// <summary>Reads <c>Authorization: Bearer</c>.</summary>
public static class BearerToken
{
    public static string? From(HttpRequest request) => From(request.Headers.Authorization.ToString());

    /// <param name="header">The Authorization header's value.</param>
    public static string? From(string? header) =>
        header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
}
