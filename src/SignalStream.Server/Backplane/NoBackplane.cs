using System.Diagnostics;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Backplane;

/// <summary>One node, in memory: the local feed is the whole audience, so nothing travels and nothing arrives.</summary>
public sealed class NoBackplane : ISignalBackplane
{
    public ValueTask PublishAsync(StoredSignal signal, DateTimeOffset ingestedAt, ActivityContext trace) => ValueTask.CompletedTask;

    public Task<IAsyncDisposable> SubscribeAsync(Func<StoredSignal, DateTimeOffset, ActivityContext, Task> receive) => Task.FromResult<IAsyncDisposable>(Nothing.Instance);

    private sealed class Nothing : IAsyncDisposable
    {
        public static readonly Nothing Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
