using Microsoft.Extensions.Logging;
using SignalStream.Protocol;

namespace SignalStream.Client;

/// <summary>
/// The client's public events, raised on behalf of <see cref="SignalStreamClient"/> by the pieces that
/// notice what happened. A handler that throws is logged and the stream carries on.
/// </summary>
internal sealed class ClientEvents(object sender, ILogger logger)
{
    public event EventHandler<SignalReceivedEventArgs>? SignalReceived;

    public event EventHandler<ConnectionStateChangedEventArgs>? StateChanged;

    public event EventHandler<ResumedEventArgs>? Resumed;

    public event EventHandler<TierChangedEventArgs>? TierChanged;

    public void OnSignalReceived(Signal signal) => Raise(SignalReceived, new SignalReceivedEventArgs(signal), nameof(SignalReceived));

    public void OnStateChanged(ConnectionStateChangedEventArgs args) => Raise(StateChanged, args, nameof(StateChanged));

    public void OnResumed(ResumedEventArgs args) => Raise(Resumed, args, nameof(Resumed));

    public void OnTierChanged(Tier tier) => Raise(TierChanged, new TierChangedEventArgs(tier), nameof(TierChanged));

    private void Raise<T>(EventHandler<T>? handler, T args, string name)
    {
        if (handler is null)
            return;
        try
        {
            handler(sender, args);
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(logger, name, ex);
        }
    }
}
