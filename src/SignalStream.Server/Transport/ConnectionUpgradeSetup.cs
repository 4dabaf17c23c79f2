using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace SignalStream.Server.Transport;

public static class ConnectionUpgradeSetup
{
    /// <summary>Puts <see cref="ConnectionUpgrade"/> in front of HTTP on every endpoint (before TLS, so it only ever serves cleartext).</summary>
    public static void UseConnectionUpgrade(this KestrelServerOptions kestrel) =>
        kestrel.ConfigureEndpointDefaults(listen => listen.Use(next =>
        {
            var services = listen.ApplicationServices;
            return ActivatorUtilities.CreateInstance<ConnectionUpgrade>(services, next, kestrel.Limits).OnConnectedAsync;
        }));
}
