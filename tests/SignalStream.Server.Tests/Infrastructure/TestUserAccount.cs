using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Infrastructure;

public sealed record TestUserAccount(string Id, string Username, Tier Tier, string Token);
