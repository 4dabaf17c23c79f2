namespace SignalStream.Server.Auth;

/// <summary>
/// Single-use WebSocket tickets: they keep long-lived tokens out of URLs and logs. Every store keeps
/// these (tests/…/Auth/TicketStoreSpec):
/// <list type="number">
/// <item>A ticket is 256 random bits (43 base64url characters), a new one at every issue.</item>
/// <item>It redeems to the user and token expiry it was issued with, once: of any number of concurrent
/// redemptions exactly one gets it; every other, and every later one, gets null.</item>
/// <item>It is redeemable until <see cref="AuthOptions.TicketLifetime"/> after issue, by the store's
/// <see cref="TimeProvider"/>; at that instant and after, it redeems to null, and is gone.</item>
/// <item>An unknown, empty or malformed ticket redeems to null.</item>
/// </list>
/// </summary>
public interface ITicketStore
{
    /// <param name="tokenExpiresAt">When the token the ticket was bought with expires: the connection lives no longer.</param>
    Task<string> IssueAsync(string userId, DateTimeOffset tokenExpiresAt, CancellationToken ct);
    /// <summary>The ticket's user, once; null when unknown, used or expired.</summary>
    Task<RedeemedTicket?> RedeemAsync(string ticket, CancellationToken ct);
}
