using System.Net;
using Microsoft.AspNetCore.Connections;

namespace SignalStream.Server.Transport;

/// <summary>
/// Takes a connection from the kernel only while the process holds fewer sockets than
/// <see cref="Capacity.MaxSockets"/>. Kestrel's own <c>MaxConcurrentConnections</c> is not enough:
/// it refuses a connection after accepting it, so a burst of connects (a plain TCP flood) is
/// accepted faster than it is refused, every one a descriptor, and a process out of descriptors
/// aborts. Here the accept loop waits instead: the excess queues in the kernel's backlog, which
/// costs the process nothing, and is served as sockets close.
/// </summary>
public sealed class AcceptGate(IConnectionListenerFactory inner, Capacity capacity) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly Lazy<SemaphoreSlim> _slots = new(() => new SemaphoreSlim(capacity.MaxSockets, capacity.MaxSockets));

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        new GatedListener(await inner.BindAsync(endpoint, cancellationToken), _slots.Value);

    public bool CanBind(EndPoint endpoint) => inner is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    private sealed class GatedListener(IConnectionListener inner, SemaphoreSlim slots) : IConnectionListener
    {
        private readonly CancellationTokenSource _unbound = new();

        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
            try
            {
                await slots.WaitAsync(waiting.Token);
            }
            catch (OperationCanceledException) when (_unbound.IsCancellationRequested)
            {
                return null; // unbound while full: the accept loop ends as if the listener had closed
            }

            ConnectionContext? connection;
            try
            {
                connection = await inner.AcceptAsync(cancellationToken);
            }
            catch
            {
                slots.Release();
                throw;
            }
            if (connection is null)
            {
                slots.Release();
                return null;
            }
            // The transport fires this once its socket is closed, however the connection ended.
            connection.ConnectionClosed.Register(static s => ((Slot)s!).Release(), new Slot(slots));
            return connection;
        }

        /// <summary>One accepted socket's slot, given back once (a state object: no closure per connection).</summary>
        private sealed class Slot(SemaphoreSlim slots)
        {
            private int _released;

            public void Release()
            {
                if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release();
            }
        }

        public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            await _unbound.CancelAsync();
            await inner.UnbindAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await _unbound.CancelAsync();
            await inner.DisposeAsync();
            _unbound.Dispose();
        }
    }
}
