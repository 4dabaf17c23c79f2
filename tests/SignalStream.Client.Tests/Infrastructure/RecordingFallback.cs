using System.Collections.Concurrent;
using System.Threading.Channels;
using SignalStream.Client.Connection;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>A polling fallback for unit tests of the <see cref="ConnectionLoop"/>: records each call and answers at once.</summary>
internal sealed class RecordingFallback(Func<ReconnectContext, Exception?>? answer = null) : IPollingFallback
{
    private readonly Channel<(DateTimeOffset Due, ReconnectContext Cause, TimeSpan Delay)> _calls = Channel.CreateUnbounded<(DateTimeOffset, ReconnectContext, TimeSpan)>();

    public ConcurrentQueue<(DateTimeOffset Due, ReconnectContext Cause, TimeSpan Delay)> Calls { get; } = new();

    public async Task<(DateTimeOffset Due, ReconnectContext Cause, TimeSpan Delay)> NextCallAsync() =>
        await _calls.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);

    public Task<Exception?> PollUntilAsync(DateTimeOffset due, ReconnectContext cause, TimeSpan delay, CancellationToken stop)
    {
        Calls.Enqueue((due, cause, delay));
        _calls.Writer.TryWrite((due, cause, delay));
        return Task.FromResult(answer?.Invoke(cause));
    }
}
