namespace SignalStream.Server.Cluster;

/// <summary>The <c>Cluster</c> configuration section (docs/protocol.md, "Running and configuration").</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>This node's name in the cluster; unique per process by default, so a restarted node is a new node.</summary>
    public string NodeId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
    /// <summary>A node whose heartbeat is older than this is dead: its connections stop counting.</summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
