using System.Net;
using System.Net.Http.Json;
using SignalStream.Protocol;

namespace SignalStream.Client.Rest;

/// <summary>
/// Tokens for every connection attempt: a provider (called each time), a login with user name and
/// password, or a fixed token. Tokens are never logged.
/// </summary>
internal sealed class TokenSource
{
    private readonly Func<CancellationToken, ValueTask<string>>? _provider;
    private readonly string? _fixed;
    private readonly string? _username;
    private readonly string? _password;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private string? _current;
    private DateTimeOffset _currentExpires;

    public TokenSource(SignalStreamClientOptions options, HttpClient http)
    {
        _provider = options.TokenProvider;
        _fixed = options.AccessToken;
        _username = options.Username;
        _password = options.Password;
        _http = http;
        _time = options.TimeProvider;
        _current = _fixed;
        _currentExpires = DateTimeOffset.MaxValue;
    }

    /// <summary>Whether a new token can be had (provider or password); a fixed token cannot be renewed.</summary>
    public bool CanRenew => _fixed is null;

    /// <summary>Whether the last <see cref="GetAsync"/> produced a new token (provider call or login) rather than a cached one.</summary>
    public bool LastWasFresh { get; private set; }

    /// <summary>The token last handed out, if any.</summary>
    public string? Current => Volatile.Read(ref _current);

    /// <summary>
    /// A token for a new connection or a refresh: the provider is asked every time; a password login is
    /// reused while it has more than a minute to live unless <paramref name="forceNew"/>.
    /// </summary>
    public async ValueTask<string> GetAsync(bool forceNew, CancellationToken ct)
    {
        if (_provider is not null)
        {
            var token = await _provider(ct).ConfigureAwait(false);
            if (string.IsNullOrEmpty(token))
                throw new InvalidOperationException("The token provider returned an empty token.");
            Volatile.Write(ref _current, token);
            LastWasFresh = true;
            return token;
        }
        LastWasFresh = false;
        if (_fixed is not null)
            return _fixed;

        if (!forceNew && _current is { } cached && _currentExpires - _time.GetUtcNow() > TimeSpan.FromMinutes(1))
            return cached;
        using var response = await _http.PostAsJsonAsync(Paths.Token.TrimStart('/'), new TokenRequest(_username, _password), ProtocolJson.Default.TokenRequest, ct).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.BadRequest)
            throw new UnauthorizedException((int)response.StatusCode, $"Login as '{_username}' was refused (HTTP {(int)response.StatusCode}).");
        await RestSignalList.EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        var body = await response.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse, ct).ConfigureAwait(false)
            ?? throw new HttpRequestException("The token endpoint answered an empty body.");
        _currentExpires = _time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(0, body.ExpiresIn));
        Volatile.Write(ref _current, body.AccessToken);
        LastWasFresh = true;
        return body.AccessToken;
    }
}
