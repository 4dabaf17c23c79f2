namespace SignalStream.Client.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class RealServerCollection
{
    /// <summary>Real-server tests run one at a time: each starts a server process, and the machine has two cores.</summary>
    public const string Name = "real server";
}
