using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using SignalStream.Server.Hosting;

namespace SignalStream.Server.Auth;

public sealed record RedeemedTicket(string UserId, DateTimeOffset TokenExpiresAt);
