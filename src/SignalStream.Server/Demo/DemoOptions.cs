namespace SignalStream.Server.Demo;

/// <summary>The <c>Demo</c> configuration section (docs/protocol.md, "Running and configuration").</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    public bool Enabled { get; set; }
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(3);
    /// <summary>Seed one user per tier into an empty user store.</summary>
    public bool SeedUsers { get; set; } = true;
}
