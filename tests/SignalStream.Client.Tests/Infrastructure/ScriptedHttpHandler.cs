using System.Collections.Concurrent;
using System.Net;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>An HTTP handler for unit tests of the REST pieces: answers each request as the test says and keeps it.</summary>
public sealed class ScriptedHttpHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
{
    /// <summary>Every request as "METHOD path?query Authorization".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Enqueue($"{request.Method} {request.RequestUri!.PathAndQuery} {request.Headers.Authorization}".TrimEnd());
        return Task.FromResult(answer(request));
    }
}
