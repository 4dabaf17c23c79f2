namespace SignalStream.Server.Auth;

/// <summary>Single-use WebSocket tickets: they keep long-lived tokens out of URLs and logs.</summary>
public interface ITicketStore
{
    /// <param name="tokenExpiresAt">When the token the ticket was bought with expires: the connection lives no longer.</param>
    Task<string> IssueAsync(string userId, DateTimeOffset tokenExpiresAt, CancellationToken ct);
    /// <summary>The ticket's user, once; null when unknown, used or expired.</summary>
    Task<RedeemedTicket?> RedeemAsync(string ticket, CancellationToken ct);
}
