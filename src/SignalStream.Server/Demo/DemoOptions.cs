namespace SignalStream.Server.Demo;

/// <summary>The <c>Demo</c> configuration section (docs/protocol.md, "Running and configuration").</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    /// <summary>A demo publisher, and one demo user per tier seeded into an empty user store. Off: no user is created.</summary>
    public bool Enabled { get; set; }
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(3);
}
