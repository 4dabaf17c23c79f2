namespace SignalStream.Server.Transport;

/// <summary>
/// Protocol pings every <paramref name="Interval"/>; a socket whose pong is <paramref name="Timeout"/> late is aborted.
/// The client's own pings are answered up to <paramref name="ClientPingsPerSecond"/> a second, and a flood of more
/// than twice that closes the socket 4003, as for messages (<see cref="PipeWebSocket"/> only: ManagedWebSocket answers every ping).
/// </summary>
public readonly record struct KeepAlive(TimeSpan Interval, TimeSpan Timeout, int ClientPingsPerSecond = int.MaxValue);
