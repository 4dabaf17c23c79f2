using SignalStream.Server.Backplane;

namespace SignalStream.Server.Tests.Backplane;

/// <summary>The feed spec's fake keeps what the interface promises, so what the feed survives on it, it survives anywhere.</summary>
public sealed class LossyBackplaneSpecTests : BackplaneSpec
{
    private readonly LossyBackplane _medium = new(seed: 13);

    protected override bool Carries => true;

    protected override Task<(ISignalBackplane A, ISignalBackplane B)> CreateNodesAsync() =>
        Task.FromResult((_medium.Node(), _medium.Node()));

    protected override Task TakeMediumAwayAsync()
    {
        _medium.Cut();
        return Task.CompletedTask;
    }
}
