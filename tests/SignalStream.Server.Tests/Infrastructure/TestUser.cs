using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SignalStream.Protocol;
using SignalStream.Server.Hosting;
using SignalStream.Server.Observability;

namespace SignalStream.Server.Tests.Infrastructure;

public sealed record TestUser(string Id, string Username, Tier Tier, string Token);
