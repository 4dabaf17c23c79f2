using System.Threading.Channels;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>
/// Watches a client: every delivered signal and state change, with awaitable conditions so tests
/// synchronize on events rather than sleeping.
/// </summary>
public sealed class ClientProbe
{
    private readonly Lock _lock = new();
    private readonly List<Signal> _signals = [];
    private readonly List<ConnectionStateChangedEventArgs> _states = [];
    private readonly List<(Func<bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public ClientProbe(SignalStreamClient client)
    {
        client.SignalReceived += (_, e) => Update(() => _signals.Add(e.Signal));
        client.StateChanged += (_, e) => Update(() => _states.Add(e));
        StateChanges = Channel.CreateUnbounded<ConnectionStateChangedEventArgs>();
        client.StateChanged += (_, e) => StateChanges.Writer.TryWrite(e);
    }

    /// <summary>Every state change, to read one at a time.</summary>
    public Channel<ConnectionStateChangedEventArgs> StateChanges { get; }

    public IReadOnlyList<Signal> Signals
    {
        get { lock (_lock) return [.. _signals]; }
    }

    public IReadOnlyList<long> Seqs
    {
        get { lock (_lock) return _signals.Select(s => s.Seq).ToList(); }
    }

    public IReadOnlyList<ConnectionStateChangedEventArgs> States
    {
        get { lock (_lock) return [.. _states]; }
    }

    public Task WaitForSignalsAsync(int count, TimeSpan? timeout = null) =>
        WaitAsync(() => _signals.Count >= count, timeout, $"{count} signals");

    public Task WaitForSeqAsync(long seq, TimeSpan? timeout = null) =>
        WaitAsync(() => _signals.Any(s => s.Seq >= seq), timeout, $"seq {seq}");

    public Task WaitForStateAsync(ConnectionState state, int occurrence = 1, TimeSpan? timeout = null) =>
        WaitAsync(() => _states.Count(s => s.State == state) >= occurrence, timeout, $"{state} #{occurrence}");

    public async Task<ConnectionStateChangedEventArgs> NextStateAsync(ConnectionState state, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TestTimeouts.Default);
        while (true)
        {
            var e = await StateChanges.Reader.ReadAsync(cts.Token);
            if (e.State == state)
                return e;
        }
    }

    public async Task WaitAsync(Func<bool> condition, TimeSpan? timeout = null, string what = "condition")
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (condition())
                return;
            _waiters.Add((condition, done));
        }
        try
        {
            await done.Task.WaitAsync(timeout ?? TestTimeouts.Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out waiting for {what}; seqs [{string.Join(",", Seqs)}], states [{string.Join(",", States.Select(s => s.State))}]");
        }
    }

    private void Update(Action change)
    {
        List<TaskCompletionSource> ready = [];
        lock (_lock)
        {
            change();
            foreach (var waiter in _waiters.ToList())
            {
                if (waiter.Condition())
                {
                    ready.Add(waiter.Done);
                    _waiters.Remove(waiter);
                }
            }
        }
        foreach (var done in ready)
            done.TrySetResult();
    }

    /// <summary>Asserts the consumer saw exactly these seqs, once each, in order.</summary>
    public void AssertExactly(IEnumerable<long> expected) => Assert.Equal(expected.ToArray(), Seqs.ToArray());
}
