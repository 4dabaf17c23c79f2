using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SignalStream.Bench;

/// <summary>
/// Where the traced target exports its spans: an OTLP/HTTP endpoint on loopback (Kestrel) that accepts
/// <c>POST /v1/traces</c>, answers 200 with an empty ExportTraceServiceResponse, and only counts what arrived,
/// so a run can show that export really happened without a collector's cost landing on the shared cores.
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _exports, _bytes;

    private OtlpSink(WebApplication app) => _app = app;

    /// <summary>The base address for <c>--Observability:Otlp:Endpoint</c> (the server appends /v1/traces).</summary>
    public string Endpoint => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>Export requests and body bytes received so far.</summary>
    public (long Exports, long Bytes) Received => (Interlocked.Read(ref _exports), Interlocked.Read(ref _bytes));

    public static async Task<OtlpSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var sink = new OtlpSink(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            var buffer = new byte[16 * 1024];
            long length = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer)) > 0) length += read;
            Interlocked.Add(ref sink._bytes, length);
            Interlocked.Increment(ref sink._exports);
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        return sink;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
