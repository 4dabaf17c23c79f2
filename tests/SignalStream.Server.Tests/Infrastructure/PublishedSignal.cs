using SignalStream.Protocol;

namespace SignalStream.Server.Tests.Infrastructure;

public sealed record PublishedSignal(long Seq, string ExternalId, Tier MinTier, string Target, TimeSpan Elapsed);
