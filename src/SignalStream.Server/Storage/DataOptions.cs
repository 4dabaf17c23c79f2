namespace SignalStream.Server.Storage;

/// <summary>The <c>Data</c> configuration section (docs/protocol.md, "Running and configuration").</summary>
public sealed class DataOptions
{
    public const string Section = "Data";

    /// <summary>Where the SQLite database and generated keys live.</summary>
    public string Directory { get; set; } = "data";
}
