using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using SignalStream.Server.Observability;

namespace SignalStream.Server.Auth;

/// <summary>
/// Validates tokens from the configured external issuer for token exchange: its shared HS256 secret, the
/// public keys of its JWKS file, or keys fetched from its JWKS URL or OpenID Connect discovery document; its
/// issuer and audience; 30 s of skew at most. Only the named claim is taken from it: the tier always comes
/// from our user store.
/// </summary>
public sealed class ExternalTokens
{
    /// <summary>
    /// An unknown <c>kid</c> makes the handler ask for fresh keys (the provider rotated them); a token made up
    /// with random <c>kid</c>s must not turn that into a flood of fetches (SECURITY.md): at most one a minute.
    /// The request that asked waits for them (the runtime switch <c>UpdateConfigAsBlocking</c>, set in the
    /// project file), so the first token signed with a rotated-in key is accepted, not refused while
    /// IdentityModel 8 refreshes in the background by default.
    /// </summary>
    public static readonly TimeSpan KeyRefreshInterval = TimeSpan.FromMinutes(1);

    private static readonly string[] AsymmetricAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];

    /// <summary>While the provider is away every exchange fails alike: one log line per interval says so.</summary>
    private static readonly TimeSpan OutageLogInterval = TimeSpan.FromSeconds(10);

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters? _parameters;
    private readonly TimeProvider _time;
    private readonly ConfigurationManager<OpenIdConnectConfiguration>? _providerKeys;
    private long _outageLoggedAt;
    private readonly string _usernameClaim;
    private readonly ILogger<ExternalTokens> _logger;

    public ExternalTokens(IOptions<AuthOptions> options, TimeProvider time, ILogger<ExternalTokens> logger)
    {
        _logger = logger;
        _time = time;
        var external = options.Value.External;
        _usernameClaim = external.UsernameClaim;
        if (!external.IsConfigured) return;

        var keys = new List<SecurityKey>();
        var algorithms = new List<string>();
        if (!string.IsNullOrEmpty(external.SigningKey))
        {
            keys.Add(new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(external.SigningKey)));
            algorithms.Add(SecurityAlgorithms.HmacSha256);
        }
        if (!string.IsNullOrEmpty(external.JwksFile))
            keys.AddRange(new JsonWebKeySet(File.ReadAllText(external.JwksFile)).GetSigningKeys());
        if (!string.IsNullOrEmpty(external.JwksFile) || external.UsesProvider)
            algorithms.AddRange(AsymmetricAlgorithms);
        _parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            // The platform's cache of a provider's keys: fetched on first use, refreshed on an unknown kid.
            ConfigurationManager = _providerKeys = ProviderKeys(external),
            ValidAlgorithms = algorithms,
            ValidIssuer = external.Issuer,
            ValidAudience = external.Audience,
            ValidateAudience = !string.IsNullOrEmpty(external.Audience),
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = options.Value.ClockSkew,
        };
    }

    public bool IsConfigured => _parameters is not null;

    /// <summary>The local username the external token names, or null when the token is not good.</summary>
    /// <exception cref="IdentityProviderUnavailableException">The provider's keys were never fetched and cannot be now:
    /// the token cannot be judged, which is our outage (503), not the caller's failure (401, counted by the throttle).</exception>
    public async Task<string?> ValidateAsync(string token)
    {
        if (_parameters is null) return null;
        if (_providerKeys is not null)
        {
            // Cached after the first fetch (a failed refresh keeps the keys it has); throws only while it never had any,
            // and the platform tries the provider again about a second later.
            try { await _providerKeys.GetConfigurationAsync(CancellationToken.None); }
            catch (InvalidOperationException e)
            {
                var last = Volatile.Read(ref _outageLoggedAt);
                if ((last == 0 || _time.GetElapsedTime(last) >= OutageLogInterval) && Interlocked.CompareExchange(ref _outageLoggedAt, _time.GetTimestamp(), last) == last)
                    _logger.IdentityProviderUnavailable(_providerKeys.MetadataAddress, e);
                throw new IdentityProviderUnavailableException(e);
            }
        }
        var result = await _handler.ValidateTokenAsync(token, _parameters);
        return result.IsValid && result.SecurityToken is JsonWebToken jwt && jwt.TryGetPayloadValue<string>(_usernameClaim, out var name) && !string.IsNullOrEmpty(name)
            ? name
            : null;
    }

    private static ConfigurationManager<OpenIdConnectConfiguration>? ProviderKeys(ExternalIssuerOptions external)
    {
        var documents = new HttpDocumentRetriever { RequireHttps = external.RequireHttpsMetadata };
        ConfigurationManager<OpenIdConnectConfiguration>? manager =
            !string.IsNullOrEmpty(external.Authority)
                ? new(external.Authority.TrimEnd('/') + "/.well-known/openid-configuration", new OpenIdConnectConfigurationRetriever(), documents)
            : !string.IsNullOrEmpty(external.JwksUrl)
                ? new(external.JwksUrl, new JwksRetriever(), documents)
            : null;
        if (manager is null) return null;
        manager.RefreshInterval = KeyRefreshInterval;
        // The platform would keep accepting keys of an older document for an hour (last known good): a key the
        // provider has rotated out must be refused as soon as we have its new document.
        manager.UseLastKnownGoodConfiguration = false;
        return manager;
    }

    /// <summary>A bare JWKS URL read as a configuration that holds only signing keys (the issuer is configured).</summary>
    private sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var keys = new JsonWebKeySet(await retriever.GetDocumentAsync(address, cancel));
            var configuration = new OpenIdConnectConfiguration { JsonWebKeySet = keys };
            foreach (var key in keys.GetSigningKeys()) configuration.SigningKeys.Add(key);
            return configuration;
        }
    }
}

/// <summary>The identity provider's keys cannot be had: token exchange answers 503 until they can.</summary>
public sealed class IdentityProviderUnavailableException(Exception inner) : Exception("The identity provider's keys could not be fetched.", inner);
