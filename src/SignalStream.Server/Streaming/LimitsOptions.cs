namespace SignalStream.Server.Streaming;

/// <summary>The <c>Limits</c> configuration section (docs/protocol.md, "Running and configuration").</summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    public int ConnectionsPerUser { get; set; } = 10;
    /// <summary>Connections this process accepts; 0 derives it from the process's file-descriptor limit.</summary>
    public int MaxConnections { get; set; }
    public int IngestPerSecond { get; set; } = 500;
    public int IngestMaxBodyBytes { get; set; } = 64 * 1024;
    /// <summary>Signals in one batch request at most (never more than <see cref="IngestPerSecond"/>: a batch takes one token per signal).</summary>
    public int IngestBatchMaxItems { get; set; } = 500;
    public int IngestBatchMaxBodyBytes { get; set; } = 1024 * 1024;
    public TimeSpan IngestBodyTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
