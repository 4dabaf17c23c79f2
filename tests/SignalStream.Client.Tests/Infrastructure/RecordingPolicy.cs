using System.Collections.Concurrent;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>A reconnect policy that answers as told and keeps every context it was asked about.</summary>
public sealed class RecordingPolicy(Func<ReconnectContext, TimeSpan?> answer) : IReconnectPolicy
{
    public ConcurrentQueue<ReconnectContext> Contexts { get; } = new();

    public TimeSpan? NextRetryDelay(ReconnectContext context)
    {
        Contexts.Enqueue(context);
        return answer(context);
    }
}
