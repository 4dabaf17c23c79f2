namespace SignalStream.Server.Auth;

public sealed record RedeemedTicket(string UserId, DateTimeOffset TokenExpiresAt);
