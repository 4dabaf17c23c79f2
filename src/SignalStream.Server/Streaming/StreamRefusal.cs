namespace SignalStream.Server.Streaming;

/// <summary>A refusal before the upgrade: the status and problem body the client gets.</summary>
public readonly record struct StreamRefusal(int Status, string Title, string Detail, int RetryAfterSeconds = 0);
