using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Hosting;
using SignalStream.Server.Observability;
using SignalStream.Server.Users;

namespace SignalStream.Server.Streaming;

/// <summary>A refusal before the upgrade: the status and problem body the client gets.</summary>
public readonly record struct StreamRefusal(int Status, string Title, string Detail, int RetryAfterSeconds = 0);
