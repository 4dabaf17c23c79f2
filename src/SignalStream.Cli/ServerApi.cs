using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SignalStream.Cli;

/// <summary>An HTTP answer: status, body and, for 429, how long to wait.</summary>
internal sealed record ApiResponse(int Status, string Body, TimeSpan? RetryAfter)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public JsonNode? Json()
    {
        try
        {
            return Body.Length == 0 ? null : JsonNode.Parse(Body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The server's reason in one line: the problem's title, detail and field errors (RFC 9457).</summary>
    public string Problem()
    {
        var node = Json() as JsonObject;
        var parts = new List<string>();
        if (node?["title"] is JsonValue title && title.TryGetValue<string>(out var t) && t.Length > 0)
            parts.Add(t);
        if (node?["detail"] is JsonValue detail && detail.TryGetValue<string>(out var d) && d.Length > 0 && !parts.Contains(d))
            parts.Add(d);
        if (node?["errors"] is JsonObject errors)
        {
            var fields = errors.Select(e => e.Key + ": " + (e.Value switch
            {
                JsonArray list => string.Join(", ", list.Select(x => x?.ToString())),
                null => "",
                var other => other.ToString(),
            }));
            parts.Add(string.Join("; ", fields));
        }
        if (parts.Count == 0)
            parts.Add(Body.Length is > 0 and <= 200 && node is null ? Body.Trim() : ReasonPhrase(Status));
        return $"HTTP {Status}: {string.Join(" - ", parts)}";
    }

    private static string ReasonPhrase(int status) =>
        Enum.IsDefined(typeof(HttpStatusCode), status) ? ((HttpStatusCode)status).ToString() : "error";
}

/// <summary>The few HTTP calls the commands make. Keys and tokens go in headers only, and are never printed.</summary>
internal sealed class ServerApi : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _base;

    public ServerApi(Uri baseUri, HttpMessageHandler? handler = null)
    {
        _base = baseUri;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = new Uri(baseUri.GetLeftPart(UriPartial.Authority) + baseUri.AbsolutePath.TrimEnd('/') + "/");
        _http.Timeout = TimeSpan.FromSeconds(30);
    }

    public Uri BaseUri => _base;

    public async Task<ApiResponse> SendAsync(HttpMethod method, string path, CancellationToken ct,
        string? apiKey = null, string? bearer = null, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (apiKey is not null)
            request.Headers.Add("X-API-Key", apiKey);
        if (bearer is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            TimeSpan? retryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - DateTimeOffset.UtcNow,
                _ => null,
            };
            return new ApiResponse((int)response.StatusCode, body, retryAfter);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw CliException.Unavailable($"no answer from {_base} within {_http.Timeout.TotalSeconds:0} s ({ex.Message})");
        }
    }

    /// <summary>
    /// A WebSocket upgrade request as a plain HTTP request, to read why the server refuses it: a refused upgrade's
    /// problem body never reaches a WebSocket client. The connection is dropped if the server accepts after all.
    /// </summary>
    public async Task<ApiResponse> RequestUpgradeAsync(string pathAndQuery, string bearer, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery.TrimStart('/'));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)));
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            var body = response.StatusCode == HttpStatusCode.SwitchingProtocols ? "" : await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return new ApiResponse((int)response.StatusCode, body, null);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(ex);
        }
    }

    public CliException Unreachable(Exception ex)
    {
        var inner = ex.InnerException as SocketException ?? ex as SocketException;
        return CliException.Unavailable($"cannot reach the server at {_base}: {inner?.Message ?? ex.Message}");
    }

    /// <summary>401 and 403 end the command with exit code 3; the key itself is never shown.</summary>
    public static void EnsureAuthorized(ApiResponse response, string what)
    {
        if (response.Status is 401 or 403)
            throw CliException.Unavailable($"the server refused the {what} ({response.Problem()})");
    }

    public void Dispose() => _http.Dispose();
}
