using SignalStream.Protocol;

namespace SignalStream.Client;

/// <summary>A signal delivered to the consumer: new, visible, in seq order.</summary>
public sealed class SignalReceivedEventArgs(Signal signal) : EventArgs
{
    /// <summary>The stored signal.</summary>
    public Signal Signal { get; } = signal;
}
