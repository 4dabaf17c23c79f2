using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SignalStream.Protocol;

namespace SignalStream.Client.Delivery;

/// <summary>
/// Hands signals to the consumer: each new one (by <see cref="ResumeState"/>) that passes the symbol
/// filter goes to <see cref="ClientEvents.SignalReceived"/> and then to the reader buffer, which holds
/// the connection back while it is full.
/// </summary>
internal sealed class SignalDelivery
{
    private readonly ResumeState _resume;
    private readonly SymbolFilter _symbols;
    private readonly ClientEvents _events;
    private readonly ILogger _logger;
    private readonly Channel<Signal>? _reader;

    /// <summary>Creates the delivery; <paramref name="readerCapacity"/> signals are buffered for <see cref="Reader"/> (0: the event only).</summary>
    public SignalDelivery(ResumeState resume, SymbolFilter symbols, ClientEvents events, int readerCapacity, ILogger logger)
    {
        _resume = resume;
        _symbols = symbols;
        _events = events;
        _logger = logger;
        if (readerCapacity > 0)
        {
            _reader = Channel.CreateBounded<Signal>(new BoundedChannelOptions(readerCapacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleWriter = true,
            });
        }
    }

    /// <summary>The delivered signals, in order; null when the reader buffer is disabled.</summary>
    public ChannelReader<Signal>? Reader => _reader?.Reader;

    /// <summary>
    /// Delivers <paramref name="signal"/> unless it was seen before or, with <paramref name="filterSymbols"/>
    /// (signals from the REST list, which does not filter by symbol; the socket does), is filtered out.
    /// </summary>
    public async ValueTask<bool> DeliverAsync(Signal signal, bool filterSymbols, CancellationToken ct)
    {
        if (!_resume.TryAccept(signal.Seq))
        {
            Log.DuplicateSignal(_logger, signal.Seq, _resume.LastSeq);
            return false;
        }
        if (filterSymbols && !_symbols.Allows(signal.Symbol))
            return false;
        _events.OnSignalReceived(signal);
        if (_reader is not null)
            await _reader.Writer.WriteAsync(signal, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Ends the reader: cleanly, or with the error that stopped the client.</summary>
    public void Complete(Exception? error = null) => _reader?.Writer.TryComplete(error);
}
