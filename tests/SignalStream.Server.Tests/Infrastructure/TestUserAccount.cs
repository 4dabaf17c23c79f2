using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Npgsql;
using SignalStream.Protocol;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Infrastructure;

public sealed record TestUserAccount(string Id, string Username, Tier Tier, string Token);
