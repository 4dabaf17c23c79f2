namespace SignalStream.Server.Observability;

/// <summary>The <c>Observability</c> configuration section (docs/protocol.md, "Running and configuration").</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary><c>/ws/stats</c> without the admin key.</summary>
    public bool PublicStats { get; set; }
    /// <summary><c>/metrics</c> without the admin key.</summary>
    public bool PublicMetrics { get; set; } = true;
}
