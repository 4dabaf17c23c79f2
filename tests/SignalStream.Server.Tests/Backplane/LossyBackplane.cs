using System.Threading.Channels;
using SignalStream.Server.Backplane;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Tests.Backplane;

/// <summary>
/// A backplane as bad as <see cref="ISignalBackplane"/> allows, for the feed's spec: for each
/// subscriber it drops a fifth of the signals, doubles some, and holds a few back to hand them on
/// in shuffled order. Seeded, so a failing run can be replayed. Still keeps what the interface
/// promises (BackplaneSpec holds it to that): intact signals, one at a time, nothing after disposal.
/// </summary>
public sealed class LossyBackplane(int seed)
{
    private const double Drop = 0.2, Double = 0.15;
    private const int MaxHeld = 5;

    private readonly Lock _gate = new();
    private readonly Random _random = new(seed);
    private readonly List<Subscription> _subscriptions = [];
    private bool _cut;

    /// <summary>One node's end of the wire.</summary>
    public ISignalBackplane Node() => new End(this);

    /// <summary>Cuts the wire: from now on every publish is lost.</summary>
    public void Cut()
    {
        lock (_gate) _cut = true;
    }

    private void Publish(StoredSignal signal, DateTimeOffset ingestedAt)
    {
        lock (_gate)
        {
            if (_cut) return;
            foreach (var subscription in _subscriptions)
            {
                var roll = _random.NextDouble();
                if (roll < Drop) continue;
                subscription.Held.Add((signal, ingestedAt));
                if (roll > 1 - Double) subscription.Held.Add((signal, ingestedAt));
                // Hand on a random few of those held: whatever stays behind is overtaken by later ones.
                var keep = _random.Next(MaxHeld + 1);
                while (subscription.Held.Count > keep)
                {
                    var i = _random.Next(subscription.Held.Count);
                    subscription.Wire.Writer.TryWrite(subscription.Held[i]);
                    subscription.Held.RemoveAt(i);
                }
            }
        }
    }

    private sealed class End(LossyBackplane medium) : ISignalBackplane
    {
        public ValueTask PublishAsync(StoredSignal signal, DateTimeOffset ingestedAt)
        {
            medium.Publish(signal, ingestedAt);
            return ValueTask.CompletedTask;
        }

        public Task<IAsyncDisposable> SubscribeAsync(Func<StoredSignal, DateTimeOffset, Task> receive)
        {
            var subscription = new Subscription(medium, receive);
            lock (medium._gate) medium._subscriptions.Add(subscription);
            return Task.FromResult<IAsyncDisposable>(subscription);
        }
    }

    private sealed class Subscription : IAsyncDisposable
    {
        private readonly LossyBackplane _medium;
        private readonly Task _pump;

        public Subscription(LossyBackplane medium, Func<StoredSignal, DateTimeOffset, Task> receive)
        {
            _medium = medium;
            _pump = Task.Run(async () =>
            {
                await foreach (var (signal, at) in Wire.Reader.ReadAllAsync()) await receive(signal, at);
            });
        }

        public List<(StoredSignal, DateTimeOffset)> Held { get; } = [];
        public Channel<(StoredSignal, DateTimeOffset)> Wire { get; } = Channel.CreateUnbounded<(StoredSignal, DateTimeOffset)>(new() { SingleReader = true });

        public async ValueTask DisposeAsync()
        {
            lock (_medium._gate) _medium._subscriptions.Remove(this);
            Wire.Writer.TryComplete();
            await _pump; // what was already on the wire is handed on before disposal returns, nothing after
        }
    }
}
