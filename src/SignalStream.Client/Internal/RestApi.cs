using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using SignalStream.Protocol;

namespace SignalStream.Client.Internal;

/// <summary>The credentials were refused.</summary>
internal sealed class UnauthorizedException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

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
        await RestApi.EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        var body = await response.Content.ReadFromJsonAsync(ProtocolJson.Default.TokenResponse, ct).ConfigureAwait(false)
            ?? throw new HttpRequestException("The token endpoint answered an empty body.");
        _currentExpires = _time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(0, body.ExpiresIn));
        Volatile.Write(ref _current, body.AccessToken);
        LastWasFresh = true;
        return body.AccessToken;
    }
}

/// <summary>The REST calls the client needs: the signal list for catch-up and polling.</summary>
internal sealed class RestApi(HttpClient http, TokenSource tokens)
{
    /// <summary>
    /// One page of <c>GET /api/v1/signals</c>: with <paramref name="afterSeq"/>, the oldest signals after it;
    /// without, the newest. A 401 renews the token once (when it can) and retries.
    /// </summary>
    public async Task<SignalPage> GetSignalsAsync(long? afterSeq, int limit, CancellationToken ct)
    {
        var query = "limit=" + limit.ToString(CultureInfo.InvariantCulture);
        if (afterSeq is { } seq)
            query += "&after_seq=" + seq.ToString(CultureInfo.InvariantCulture);
        var path = Paths.Signals.TrimStart('/') + "?" + query;

        for (var attempt = 0; ; attempt++)
        {
            var token = tokens.Current ?? await tokens.GetAsync(forceNew: false, ct).ConfigureAwait(false);
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                if (attempt == 0 && tokens.CanRenew && response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    await tokens.GetAsync(forceNew: true, ct).ConfigureAwait(false);
                    continue;
                }
                throw new UnauthorizedException((int)response.StatusCode, $"The signal list refused the token (HTTP {(int)response.StatusCode}).");
            }
            await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
            return await response.Content.ReadFromJsonAsync(ProtocolJson.Default.SignalPage, ct).ConfigureAwait(false)
                ?? throw new HttpRequestException("The signal list answered an empty body.");
        }
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
            return;
        string detail = "";
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            detail = text.Length > 300 ? text[..300] : text;
        }
        catch (HttpRequestException)
        {
        }
        throw new HttpRequestException($"HTTP {(int)response.StatusCode} from {response.RequestMessage?.RequestUri?.AbsolutePath}: {detail}", null, response.StatusCode);
    }
}
