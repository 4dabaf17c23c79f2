namespace SignalStream.Client.Connection;

/// <summary>One live connection to the stream, from token to close: the <see cref="ConnectionLoop"/> runs one at a time.</summary>
internal interface IStreamConnection
{
    /// <summary>Opens a connection, resuming after the last delivered seq, and runs it until it ends.</summary>
    /// <param name="forceNewToken">Ask for a new token rather than a cached one.</param>
    /// <param name="stop">The client is stopping: close gracefully and return a stopped outcome.</param>
    Task<ConnectionOutcome> RunAsync(bool forceNewToken, CancellationToken stop);
}
