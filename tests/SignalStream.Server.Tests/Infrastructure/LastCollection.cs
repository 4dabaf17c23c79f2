namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// Runs after every parallel test class (xunit runs collections that disable parallelization last),
/// so <see cref="TestServer.AllLogs"/> then holds what every server of the run logged, child
/// processes included.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LastCollection
{
    public const string Name = "Last: scans of everything logged";
}
