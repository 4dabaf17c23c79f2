using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace SignalStream.Server.Auth;

/// <summary>Tickets for one node. A redeemed or expired ticket is gone for good.</summary>
public sealed class InMemoryTicketStore(IOptions<AuthOptions> options, TimeProvider time) : ITicketStore
{
    private readonly ConcurrentDictionary<string, (RedeemedTicket Ticket, DateTimeOffset ExpiresAt)> _tickets = new(StringComparer.Ordinal);

    public Task<string> IssueAsync(string userId, DateTimeOffset tokenExpiresAt, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (_tickets.Count > 1024) Purge(now);
        var ticket = Secrets.Base64Url(RandomNumberGenerator.GetBytes(32));
        _tickets[ticket] = (new RedeemedTicket(userId, tokenExpiresAt), now + options.Value.TicketLifetime);
        return Task.FromResult(ticket);
    }

    public Task<RedeemedTicket?> RedeemAsync(string ticket, CancellationToken ct) =>
        Task.FromResult(_tickets.TryRemove(ticket, out var entry) && entry.ExpiresAt > time.GetUtcNow() ? entry.Ticket : null);

    private void Purge(DateTimeOffset now)
    {
        foreach (var (key, value) in _tickets)
            if (value.ExpiresAt <= now) _tickets.TryRemove(key, out _);
    }
}
