using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using SignalStream.Protocol;
using SignalStream.Server.Observability;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Observability;

/// <summary>
/// Issue 16: one trace from the ingest POST to the sockets, exported over OTLP/HTTP to a receiver the test serves,
/// the latency histogram's exemplar pointing at it, the trace id in problem bodies and on every JSON log line.
/// Other servers of this test run may export into the same process's listeners: spans are picked by trace id.
/// </summary>
[Trait("Kind", "Functional")]
public sealed partial class TracingTests
{
    private const string NodeId = "trace-node-1";

    [Fact]
    public async Task IngestWithTraceparent_OneTrace_ValidateStoreFanoutPublish_UnderTheContinuedRequestSpan()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await TestServer.StartAsync($"--Observability:Otlp:Endpoint={receiver.Endpoint}", $"--Cluster:NodeId={NodeId}", "--log-format", "json");
        var starter = await server.CreateUserAsync(Tier.Starter);
        var pro = await server.CreateUserAsync(Tier.Professional);
        var (a, _) = await server.ConnectWelcomedAsync(starter.Token);
        var (b, _) = await server.ConnectWelcomedAsync(pro.Token);
        await using var _a = a;
        await using var _b = b;

        var (traceId, callerSpan) = NewTraceparent();
        using var posted = await PostAsync(server, TestServer.NewSignal(symbol: "ETH-USD"), traceId, callerSpan);
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        var seq = (await posted.Content.ReadFromJsonAsync(ProtocolJson.Default.IngestResponse))!.Seq;
        Assert.Equal(seq, (await a.ExpectAsync(MessageTypes.Signal)).Seq);
        Assert.Equal(seq, (await b.ExpectAsync(MessageTypes.Signal)).Seq);

        var spans = await receiver.WaitForAsync(s => s.TraceId == traceId, "the signal's trace",
            Tracing.Spans.Validate, Tracing.Spans.Store, Tracing.Spans.Fanout, Tracing.Spans.Publish);
        var request = Assert.Single(spans, s => s.ParentSpanId == callerSpan);
        Assert.Equal(2, request.Kind); // SERVER: the ASP.NET Core span continues the caller's trace
        Assert.Equal(seq, request.Attributes["signalstream.seq"]);
        foreach (var name in new[] { Tracing.Spans.Validate, Tracing.Spans.Store, Tracing.Spans.Fanout, Tracing.Spans.Publish })
            Assert.Equal(request.SpanId, Assert.Single(spans, s => s.Name == name).ParentSpanId);

        var fanout = spans.Single(s => s.Name == Tracing.Spans.Fanout);
        Assert.Equal(seq, fanout.Attributes["signalstream.seq"]);
        Assert.Equal("ETH-USD", fanout.Attributes["signalstream.symbol"]);
        Assert.Equal("STARTER", fanout.Attributes["signalstream.min_tier"]);
        Assert.Equal(1L, fanout.Attributes["signalstream.recipients.STARTER"]);
        Assert.Equal(1L, fanout.Attributes["signalstream.recipients.PROFESSIONAL"]);
        Assert.Equal(0L, fanout.Attributes["signalstream.recipients.INSTITUTIONAL"]);
        Assert.Equal(2L, fanout.Attributes["signalstream.queued"]);
        Assert.Equal(0L, fanout.Attributes["signalstream.dropped"]);
        Assert.Empty(fanout.Links);

        Assert.Equal("signalstream", fanout.Resource["service.name"]);
        Assert.Equal(NodeId, fanout.Resource["service.instance.id"]);
        Assert.False(string.IsNullOrEmpty((string)fanout.Resource["service.version"]));

        // No span per delivery: the latency histogram points at the fan-out span instead (OpenMetrics only).
        var exemplar = $"trace_id=\"{traceId}\",span_id=\"{fanout.SpanId}\"";
        await Eventually.TrueAsync(async () => (await ScrapeOpenMetricsAsync(server)).Split('\n')
            .Any(l => l.StartsWith("signalstream_delivery_latency_seconds_bucket", StringComparison.Ordinal) && l.Contains(exemplar, StringComparison.Ordinal)),
            "an exemplar on the delivery latency histogram", TimeSpan.FromSeconds(30));

        // Every JSON line written inside the trace carries its ids; every line is stamped with an ISO 8601 UTC time.
        var stored = server.Logs.Select(l => JsonDocument.Parse(l).RootElement).First(l => l.GetProperty("EventId").GetInt32() == 10);
        var ids = stored.GetProperty("Scopes").EnumerateArray().First(s => s.TryGetProperty("TraceId", out _));
        Assert.Equal(traceId, ids.GetProperty("TraceId").GetString());
        Assert.Matches(HexId(), ids.GetProperty("SpanId").GetString()!);
        Assert.All(server.Logs, l => Assert.Matches(IsoUtc(), JsonDocument.Parse(l).RootElement.GetProperty("Timestamp").GetString()!));
    }

    [Fact]
    public async Task Refusal_InATrace_ProblemBodyCarriesTheW3CTraceId()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await TestServer.StartAsync($"--Observability:Otlp:Endpoint={receiver.Endpoint}");
        var (traceId, callerSpan) = NewTraceparent();
        using var refused = await PostAsync(server, new { symbol = "BTC-USD" }, traceId, callerSpan);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(traceId, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("traceId").GetString());

        var validate = (await receiver.WaitForAsync(s => s.TraceId == traceId, "the refused request's trace", Tracing.Spans.Validate))
            .Single(s => s.Name == Tracing.Spans.Validate);
        Assert.DoesNotContain(receiver.Spans, s => s.TraceId == traceId && s.Name == Tracing.Spans.Store);
        Assert.NotEqual(callerSpan, validate.ParentSpanId);
    }

    [Fact]
    public async Task NoEndpointConfigured_TracingIsOff_ProblemBodiesStillCarryAnId()
    {
        await using var server = await TestServer.StartAsync();
        var (traceId, callerSpan) = NewTraceparent();
        using var refused = await PostAsync(server, new { symbol = "BTC-USD" }, traceId, callerSpan);
        var body = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(body.GetProperty("traceId").GetString()));
        Assert.False(Tracing.IsEnabled(server.Get<IConfiguration>()));
    }

    private static (string TraceId, string SpanId) NewTraceparent() =>
        (Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()[..8]));

    private static async Task<HttpResponseMessage> PostAsync(TestServer server, object body, string traceId, string spanId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Paths.Ingest) { Content = JsonContent.Create(body) };
        request.Headers.Add("X-API-Key", TestServer.PublisherKey);
        request.Headers.Add("traceparent", $"00-{traceId}-{spanId}-01");
        return await server.Http.SendAsync(request);
    }

    private static async Task<string> ScrapeOpenMetricsAsync(TestServer server)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Accept.ParseAdd("application/openmetrics-text; version=1.0.0");
        using var response = await server.Http.SendAsync(request);
        Assert.StartsWith("application/openmetrics-text", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync();
    }

    [GeneratedRegex("^[0-9a-f]{16}$")]
    private static partial Regex HexId();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    private static partial Regex IsoUtc();
}
