using SignalStream.Server.Streaming;

namespace SignalStream.Server.Tests.Streaming;

public sealed class LocalConnectionLimiterSpecTests : ConnectionLimiterSpec
{
    protected override Task<IReadOnlyList<IConnectionLimiter>> CreateDeploymentAsync() =>
        Task.FromResult<IReadOnlyList<IConnectionLimiter>>([new LocalConnectionLimiter()]);
}
