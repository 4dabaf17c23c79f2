using System.Net;
using SignalStream.Client.Rest;
using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Client.Tests.Rest;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class RestSignalListTests
{
    private const string EmptyPage = """{"signals":[],"last_seq":9}""";

    private static (RestSignalList List, ScriptedHttpHandler Handler, HttpClient Http) Create(Func<HttpRequestMessage, HttpResponseMessage> answer, Action<SignalStreamClientOptions> credentials)
    {
        var handler = new ScriptedHttpHandler(answer);
        var http = new HttpClient(handler) { BaseAddress = new Uri("http://server/base/") };
        var options = new SignalStreamClientOptions();
        credentials(options);
        return (new RestSignalList(http, new TokenSource(options, http)), handler, http);
    }

    [Fact]
    public async Task GetSignalsAsync_AsksForThePageWithTheBearerToken()
    {
        var (list, handler, http) = Create(_ => ScriptedHttpHandler.Json(EmptyPage), o => o.AccessToken = "t1");
        using (http)
        {
            var page = await list.GetSignalsAsync(4, 50, CancellationToken.None);
            Assert.Equal(9, page.LastSeq);
            Assert.Equal("GET /base/api/v1/signals?limit=50&after_seq=4 Bearer t1", Assert.Single(handler.Requests));
        }
    }

    [Fact]
    public async Task GetSignalsAsync_A401_RenewsTheTokenOnceAndRetries()
    {
        var calls = 0;
        var (list, handler, http) = Create(
            r => r.Headers.Authorization!.Parameter == "p-1" ? new HttpResponseMessage(HttpStatusCode.Unauthorized) : ScriptedHttpHandler.Json(EmptyPage),
            o => o.TokenProvider = _ => ValueTask.FromResult("p-" + ++calls));
        using (http)
        {
            await list.GetSignalsAsync(null, 1, CancellationToken.None);
            Assert.Equal(["GET /base/api/v1/signals?limit=1 Bearer p-1", "GET /base/api/v1/signals?limit=1 Bearer p-2"], handler.Requests);
        }
    }

    [Theory]
    [InlineData(HttpStatusCode.Forbidden, "t")]
    [InlineData(HttpStatusCode.Unauthorized, null)]
    public async Task GetSignalsAsync_RefusedForGood_IsAnUnauthorizedException(HttpStatusCode status, string? fixedToken)
    {
        var calls = 0;
        var (list, _, http) = Create(_ => new HttpResponseMessage(status), o =>
        {
            if (fixedToken is not null)
                o.AccessToken = fixedToken;
            else
                o.TokenProvider = _ => ValueTask.FromResult("p-" + ++calls);
        });
        using (http)
        {
            var ex = await Assert.ThrowsAsync<UnauthorizedException>(() => list.GetSignalsAsync(null, 1, CancellationToken.None));
            Assert.Equal((int)status, ex.Status);
        }
    }

    [Fact]
    public async Task GetSignalsAsync_OtherErrors_AreHttpErrorsWithTheStatus()
    {
        var (list, _, http) = Create(_ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("busy") }, o => o.AccessToken = "t");
        using (http)
        {
            var ex = await Assert.ThrowsAsync<HttpRequestException>(() => list.GetSignalsAsync(null, 1, CancellationToken.None));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
            Assert.Contains("busy", ex.Message, StringComparison.Ordinal);
        }
    }
}
