using Microsoft.AspNetCore.Http.Features;

namespace SignalStream.Server.Streaming;

/// <summary>
/// A refusal decided on the connection path (<see cref="Transport.ConnectionUpgrade"/>), handed to the HTTP
/// pipeline as a feature of the connection, which a request's features fall back to.
/// <see cref="StreamEndpoint.HandleAsync"/> takes it, once, and writes it like any other refusal.
/// </summary>
public sealed class HandedOverRefusal
{
    private StreamRefusal? _refusal;

    public static void Attach(IFeatureCollection connectionFeatures, StreamRefusal refusal) =>
        connectionFeatures.Set(new HandedOverRefusal { _refusal = refusal });

    /// <summary>The refusal handed over with this request's connection, if any; a later request on the connection sees none.</summary>
    public static StreamRefusal? Take(HttpContext context)
    {
        if (context.Features.Get<HandedOverRefusal>() is not { } handedOver) return null;
        var refusal = handedOver._refusal;
        handedOver._refusal = null;
        return refusal;
    }
}
