using SignalStream.Client.Connection;
using SignalStream.Client.Delivery;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>
/// The client's small shared pieces (events, resume position, symbol filter, status, delivery) wired as
/// the client wires them, with a recording logger, for unit tests of the pieces built on them.
/// </summary>
internal sealed class ClientPieces
{
    public ClientPieces(long? afterSeq = 0, IEnumerable<string>? symbols = null, int readerCapacity = 100, TimeProvider? time = null, string? epoch = null)
    {
        Time = time ?? TimeProvider.System;
        Events = new ClientEvents(this, Log);
        Resume = new ResumeState(afterSeq, epoch);
        Symbols = new SymbolFilter(symbols);
        Status = new ConnectionStatus(Events, Resume, Time, Log);
        Delivery = new SignalDelivery(Resume, Symbols, Events, readerCapacity, Log);
        Events.SignalReceived += (_, e) => Delivered.Add(e.Signal.Seq);
        Events.StateChanged += (_, e) => States.Add(e);
        Events.Resumed += (_, e) => Resumes.Add(e);
    }

    public TimeProvider Time { get; }
    public TestLogger Log { get; } = new();
    public ClientEvents Events { get; }
    public ResumeState Resume { get; }
    public SymbolFilter Symbols { get; }
    public ConnectionStatus Status { get; }
    public SignalDelivery Delivery { get; }

    /// <summary>The seqs raised by <see cref="ClientEvents.SignalReceived"/>, in order.</summary>
    public List<long> Delivered { get; } = [];

    public List<ConnectionStateChangedEventArgs> States { get; } = [];

    public List<ResumedEventArgs> Resumes { get; } = [];
}
