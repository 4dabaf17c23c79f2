using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using SignalStream.Server.Cluster;

namespace SignalStream.Server.Auth;

/// <summary>
/// Tickets any node can redeem, once: GETDEL makes the first redemption the only one. Expiry is
/// decided by the clock (the value carries it, as the in-memory store's entry does); the key's TTL
/// only clears unredeemed tickets away.
/// </summary>
public sealed class RedisTicketStore(RedisConnection redis, IOptions<AuthOptions> options, TimeProvider time) : ITicketStore
{
    public async Task<string> IssueAsync(string userId, DateTimeOffset tokenExpiresAt, CancellationToken ct)
    {
        var ticket = Secrets.Base64Url(RandomNumberGenerator.GetBytes(32));
        var lifetime = options.Value.TicketLifetime;
        var value = string.Join('|', Ms(time.GetUtcNow() + lifetime), Ms(tokenExpiresAt), userId);
        await redis.Database.StringSetAsync(RedisKeys.Ticket(ticket), value, lifetime);
        return ticket;
    }

    public async Task<RedeemedTicket?> RedeemAsync(string ticket, CancellationToken ct)
    {
        if (ticket.Length is 0 or > 128) return null;
        var value = (string?)await redis.Database.StringGetDeleteAsync(RedisKeys.Ticket(ticket));
        return value?.Split('|', 3) is [var ticketExpires, var tokenExpires, var userId]
            && long.TryParse(ticketExpires, CultureInfo.InvariantCulture, out var until) && time.GetUtcNow().ToUnixTimeMilliseconds() < until
            && long.TryParse(tokenExpires, CultureInfo.InvariantCulture, out var token)
            ? new RedeemedTicket(userId, DateTimeOffset.FromUnixTimeMilliseconds(token))
            : null;
    }

    private static string Ms(DateTimeOffset at) => at.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
}
