using SignalStream.Server.Backplane;

namespace SignalStream.Server.Tests.Backplane;

/// <summary>One node: nothing travels, and the interface's guarantees hold trivially.</summary>
public sealed class NoBackplaneSpecTests : BackplaneSpec
{
    protected override bool Carries => false;

    protected override Task<(ISignalBackplane A, ISignalBackplane B)> CreateNodesAsync() =>
        Task.FromResult<(ISignalBackplane, ISignalBackplane)>((new NoBackplane(), new NoBackplane()));

    protected override Task TakeMediumAwayAsync() => Task.CompletedTask;
}
