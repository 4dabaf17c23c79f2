using SignalStream.Server.Storage;

namespace SignalStream.Server.Backplane;

/// <summary>
/// One node: the local feed is the whole audience (ingest hands it every signal directly), so nothing
/// travels and nothing arrives. The weakest backplane the interface allows, and the right one here:
/// an in-memory loop back to the same feed would only hand it duplicates.
/// </summary>
public sealed class NoBackplane : ISignalBackplane
{
    public ValueTask PublishAsync(StoredSignal signal, DateTimeOffset ingestedAt) => ValueTask.CompletedTask;

    public Task<IAsyncDisposable> SubscribeAsync(Func<StoredSignal, DateTimeOffset, Task> receive) => Task.FromResult<IAsyncDisposable>(Nothing.Instance);

    private sealed class Nothing : IAsyncDisposable
    {
        public static readonly Nothing Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
