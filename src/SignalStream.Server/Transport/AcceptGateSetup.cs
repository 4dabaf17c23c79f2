using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace SignalStream.Server.Transport;

public static class AcceptGateSetup
{
    /// <summary>Puts the <see cref="AcceptGate"/> in front of Kestrel's socket transport (registered last, it is the one Kestrel uses).</summary>
    public static IServiceCollection AddAcceptGate(this IServiceCollection services) =>
        services.AddSingleton<IConnectionListenerFactory>(sp =>
            new AcceptGate(ActivatorUtilities.CreateInstance<SocketTransportFactory>(sp), sp.GetRequiredService<Capacity>()));
}
