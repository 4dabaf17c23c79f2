using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using SignalStream.Protocol;

namespace SignalStream.Client.Rest;

/// <summary>The signal list over HTTP, with the bearer token of the <see cref="TokenSource"/>.</summary>
internal sealed class RestSignalList(HttpClient http, TokenSource tokens) : ISignalList
{
    /// <inheritdoc/>
    /// <remarks>A 401 renews the token once (when it can) and retries.</remarks>
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
