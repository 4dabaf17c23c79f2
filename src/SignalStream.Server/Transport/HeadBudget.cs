using Microsoft.AspNetCore.Connections;

namespace SignalStream.Server.Transport;

/// <summary>
/// One head timeout per connection, whoever reads the head. <see cref="ConnectionUpgrade"/> reads a head for up
/// to Kestrel's <c>RequestHeadersTimeout</c> from its first byte; a head it hands over unfinished would get the
/// whole timeout again from Kestrel, which starts counting when it reads. So what is left of the budget goes
/// along, as a feature of the connection: the connection is aborted when it runs out, unless the HTTP pipeline
/// has received the request by then (<see cref="Received"/>, the pipeline's first step). Real time, as Kestrel's.
/// </summary>
public sealed class HeadBudget : IDisposable
{
    private readonly ConnectionContext _connection;
    private readonly ITimer _timer;
    private readonly CancellationTokenRegistration _closed;
    private int _settled;

    private HeadBudget(ConnectionContext connection, TimeSpan remaining)
    {
        _connection = connection;
        _timer = TimeProvider.System.CreateTimer(static s => ((HeadBudget)s!).Expire(), this, remaining, Timeout.InfiniteTimeSpan);
        _closed = connection.ConnectionClosed.UnsafeRegister(static s => ((HeadBudget)s!).Dispose(), this);
    }

    /// <summary>Hands the rest of the budget over with the connection.</summary>
    public static void Arm(ConnectionContext connection, TimeSpan remaining) =>
        connection.Features.Set(new HeadBudget(connection, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero));

    /// <summary>The pipeline has the request: from here on Kestrel's own timeouts apply.</summary>
    public static void Received(HttpContext context) => context.Features.Get<HeadBudget>()?.Dispose();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0) return;
        _timer.Dispose();
        _closed.Dispose();
    }

    private void Expire()
    {
        if (Volatile.Read(ref _settled) != 0) return;
        _connection.Abort(new ConnectionAbortedException("The request head took longer than RequestHeadersTimeout."));
        Dispose();
    }
}
