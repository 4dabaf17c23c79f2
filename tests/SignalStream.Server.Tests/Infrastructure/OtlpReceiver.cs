using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>A span as an OTLP receiver sees it. Ids are lower-case hex; the parent is empty for a root.</summary>
public sealed record ReceivedSpan(
    string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, object> Attributes, IReadOnlyList<(string TraceId, string SpanId)> Links,
    IReadOnlyDictionary<string, object> Resource);

/// <summary>
/// An OTLP/HTTP trace receiver on loopback (real Kestrel): accepts <c>POST /v1/traces</c> in protobuf, as the
/// server's exporter sends it, and decodes the parts of the OTLP messages the tests assert with Google.Protobuf's
/// reader (field numbers from opentelemetry-proto's trace.proto, common.proto and resource.proto).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();

    /// <summary>The base address to configure as the exporter's endpoint.</summary>
    public string Endpoint => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            foreach (var span in Decode(body.ToArray())) receiver.Spans.Enqueue(span);
            return Results.Bytes([], "application/x-protobuf"); // an empty ExportTraceServiceResponse
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>Waits (up to 30 s: the exporter sends in batches) until the spans of a trace include every name in <paramref name="names"/>.</summary>
    public async Task<ReceivedSpan[]> WaitForAsync(Func<ReceivedSpan, bool> which, string what, params string[] names)
    {
        ReceivedSpan[] found = [];
        await Eventually.TrueAsync(() =>
        {
            found = [.. Spans.Where(which)];
            return names.All(n => found.Any(s => s.Name == n));
        }, what, TimeSpan.FromSeconds(30));
        return found;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    // ---- OTLP protobuf ----

    /// <summary>ExportTraceServiceRequest: 1 resource_spans.</summary>
    private static List<ReceivedSpan> Decode(byte[] request)
    {
        var spans = new List<ReceivedSpan>();
        ForEachField(request, (field, input) =>
        {
            if (field == 1) ResourceSpans(input.ReadBytes(), spans);
            else input.SkipLastField();
        });
        return spans;
    }

    /// <summary>ResourceSpans: 1 resource (Resource: 1 attributes), 2 scope_spans (ScopeSpans: 2 spans).</summary>
    private static void ResourceSpans(ByteString message, List<ReceivedSpan> into)
    {
        var resource = new Dictionary<string, object>();
        var spans = new List<ByteString>();
        ForEachField(message, (field, input) =>
        {
            if (field == 1) ForEachField(input.ReadBytes(), (f, i) => { if (f == 1) KeyValue(i.ReadBytes(), resource); else i.SkipLastField(); });
            else if (field == 2) ForEachField(input.ReadBytes(), (f, i) => { if (f == 2) spans.Add(i.ReadBytes()); else i.SkipLastField(); });
            else input.SkipLastField();
        });
        into.AddRange(spans.Select(s => Span(s, resource)));
    }

    /// <summary>Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 9 attributes, 13 links (Link: 1 trace_id, 2 span_id).</summary>
    private static ReceivedSpan Span(ByteString message, Dictionary<string, object> resource)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var kind = 0;
        var attributes = new Dictionary<string, object>();
        var links = new List<(string, string)>();
        ForEachField(message, (field, input) =>
        {
            switch (field)
            {
                case 1: traceId = Hex(input.ReadBytes()); break;
                case 2: spanId = Hex(input.ReadBytes()); break;
                case 4: parent = Hex(input.ReadBytes()); break;
                case 5: name = input.ReadString(); break;
                case 6: kind = input.ReadEnum(); break;
                case 9: KeyValue(input.ReadBytes(), attributes); break;
                case 13:
                    string linkTrace = "", linkSpan = "";
                    ForEachField(input.ReadBytes(), (f, i) =>
                    {
                        if (f == 1) linkTrace = Hex(i.ReadBytes());
                        else if (f == 2) linkSpan = Hex(i.ReadBytes());
                        else i.SkipLastField();
                    });
                    links.Add((linkTrace, linkSpan));
                    break;
                default: input.SkipLastField(); break;
            }
        });
        return new ReceivedSpan(traceId, spanId, parent, name, kind, attributes, links, resource);
    }

    /// <summary>KeyValue: 1 key, 2 value (AnyValue: 1 string, 2 bool, 3 int64, 4 double).</summary>
    private static void KeyValue(ByteString message, Dictionary<string, object> into)
    {
        var key = "";
        object value = "";
        ForEachField(message, (field, input) =>
        {
            if (field == 1) key = input.ReadString();
            else if (field == 2)
            {
                ForEachField(input.ReadBytes(), (f, i) =>
                {
                    switch (f)
                    {
                        case 1: value = i.ReadString(); break;
                        case 2: value = i.ReadBool(); break;
                        case 3: value = i.ReadInt64(); break;
                        case 4: value = i.ReadDouble(); break;
                        default: i.SkipLastField(); break;
                    }
                });
            }
            else input.SkipLastField();
        });
        into[key] = value;
    }

    private static void ForEachField(ByteString message, Action<int, CodedInputStream> read) => ForEachField(message.ToByteArray(), read);

    private static void ForEachField(byte[] message, Action<int, CodedInputStream> read)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0) read(WireFormat.GetTagFieldNumber(tag), input);
    }

    private static string Hex(ByteString bytes) => Convert.ToHexStringLower(bytes.Span);
}
