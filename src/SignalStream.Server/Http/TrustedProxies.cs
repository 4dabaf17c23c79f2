using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace SignalStream.Server.Http;

/// <summary>
/// <c>Proxies:Trusted</c>: networks (CIDR) or addresses of the proxies in front of the nodes. A request from one of
/// them is taken to come from the last address its <c>X-Forwarded-For</c> names, so per-address limits (login
/// throttling) count clients, not the proxy. Loopback is always trusted (the platform's default; nginx on the host).
/// </summary>
public sealed class ProxyOptions
{
    public const string Section = "Proxies";

    public string[] Trusted { get; set; } = [];
}

public static class TrustedProxies
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, IConfiguration config)
    {
        services.Configure<ProxyOptions>(config.GetSection(ProxyOptions.Section));
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((forwarded, proxies) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
            // Also one comma-separated value (--Proxies:Trusted=10.0.0.0/8,192.168.1.5), which the binder skips for arrays.
            var listed = proxies.Value.Trusted.Concat((config.GetSection(ProxyOptions.Section)[nameof(ProxyOptions.Trusted)] ?? "").Split(','))
                .Select(entry => entry.Trim()).Where(entry => entry.Length > 0).Distinct();
            foreach (var entry in listed) forwarded.KnownIPNetworks.Add(ParseNetwork(entry));
        });
        return services;
    }

    private static IPNetwork ParseNetwork(string entry)
    {
        if (entry.Contains('/', StringComparison.Ordinal)) return IPNetwork.Parse(entry);
        var address = IPAddress.Parse(entry);
        return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
    }
}
