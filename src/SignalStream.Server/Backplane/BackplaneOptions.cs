namespace SignalStream.Server.Backplane;

/// <summary>The <c>Backplane</c> configuration section (docs/protocol.md, "Running and configuration").</summary>
public sealed class BackplaneOptions
{
    public const string Section = "Backplane";

    public string Provider { get; set; } = "memory";
    public string? ConnectionString { get; set; }
}
