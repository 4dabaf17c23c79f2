namespace SignalStream.Server.Streaming;

/// <summary>The <c>WebSockets</c> configuration section (docs/protocol.md, "Running and configuration").</summary>
public sealed class WebSocketsOptions
{
    public const string Section = "WebSockets";

    /// <summary>When false, <c>/ws/signals</c> answers 503 without upgrading (clients fall back to polling).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>
    /// Serve clean <c>/ws/signals</c> upgrades on the connection, in front of Kestrel's HTTP/1.1 layer
    /// (<see cref="Transport.ConnectionUpgrade"/>, docs/design.md); false sends every upgrade through the
    /// HTTP pipeline, at about twice the memory per idle connection. Same answers either way.
    /// </summary>
    public bool ConnectionUpgrade { get; set; } = true;
    /// <summary>Exact origins allowed to open a socket; empty means the server's own origin only.</summary>
    public string[] AllowedOrigins { get; set; } = [];
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);
    public int MaxMessageBytes { get; set; } = 64 * 1024;
    public int OutboundQueueCapacity { get; set; } = 256;
    /// <summary>Live signals held while a connection replays history; overflow closes it 4004.</summary>
    public int ReplayBufferCapacity { get; set; } = 4096;
    public int MessagesPerSecond { get; set; } = 20;
    public int MaxBadFrames { get; set; } = 5;
    /// <summary>
    /// The kernel send buffer of each accepted socket (0: the kernel's own, autotuned up to
    /// <c>net.ipv4.tcp_wmem</c>, 4 MB here). A slow consumer's backlog should sit in its bounded
    /// queue, where it is counted and ends in 4004, not megabytes deep in the kernel, unseen,
    /// for every socket. 64 KB still carries thousands of signals a second on a slow link.
    /// </summary>
    public int SendBufferBytes { get; set; } = 64 * 1024;
    /// <summary>
    /// Fan-out hands each pass's writes to the kernel in batches, one system call for many sockets (Linux
    /// io_uring; <see cref="Fanout.SendBatch"/>). Where io_uring is unavailable (another OS, an old kernel, a
    /// container profile that forbids it) the server logs it and makes one <c>send()</c> per write, as with false.
    /// </summary>
    public bool BatchedSends { get; set; } = true;
}
