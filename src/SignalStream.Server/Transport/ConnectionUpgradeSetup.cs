using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SignalStream.Server.Observability;

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
