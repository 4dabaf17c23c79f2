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

    /// <summary>The pipeline's first step: a head <see cref="ConnectionUpgrade"/> handed over has arrived, within its <see cref="HeadBudget"/>.</summary>
    public static IApplicationBuilder UseHeadBudget(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        HeadBudget.Received(context);
        return next(context);
    });
}
