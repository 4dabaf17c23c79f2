using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Infrastructure;

public sealed record PublishedSignal(long Seq, string ExternalId, Tier MinTier, string Target, TimeSpan Elapsed);
