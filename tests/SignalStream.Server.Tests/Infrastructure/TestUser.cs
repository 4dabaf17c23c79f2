using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Infrastructure;

public sealed record TestUser(string Id, string Username, Tier Tier, string Token);
