using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using SignalStream.Server.Cluster;

namespace SignalStream.Server.Auth;

/// <summary>Tickets any node can redeem, once: GETDEL makes the first redemption the only one.</summary>
public sealed class RedisTicketStore(RedisConnection redis, IOptions<AuthOptions> options) : ITicketStore
{
    public async Task<string> IssueAsync(string userId, DateTimeOffset tokenExpiresAt, CancellationToken ct)
    {
        var ticket = Secrets.Base64Url(RandomNumberGenerator.GetBytes(32));
        await redis.Database.StringSetAsync(RedisKeys.Ticket(ticket),
            $"{tokenExpiresAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}|{userId}", options.Value.TicketLifetime);
        return ticket;
    }

    public async Task<RedeemedTicket?> RedeemAsync(string ticket, CancellationToken ct)
    {
        if (ticket.Length is 0 or > 128) return null;
        var value = (string?)await redis.Database.StringGetDeleteAsync(RedisKeys.Ticket(ticket));
        var parts = value?.Split('|', 2);
        return parts is [var ms, var userId] && long.TryParse(ms, CultureInfo.InvariantCulture, out var expires)
            ? new RedeemedTicket(userId, DateTimeOffset.FromUnixTimeMilliseconds(expires))
            : null;
    }
}
