namespace SignalStream.Server.Storage;

/// <summary>The <c>Storage</c> configuration section (docs/protocol.md, "Running and configuration").</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    public string Provider { get; set; } = "sqlite";
    /// <summary>Defaults to <c>Data Source={Data:Directory}/signals.db</c>.</summary>
    public string? ConnectionString { get; set; }
    /// <summary>How many of the newest signals history keeps for replay and the REST list.</summary>
    public int HistoryLimit { get; set; } = 100_000;
}
