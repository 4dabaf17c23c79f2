namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>
/// Values of the <c>Kind</c> trait: filter with <c>--filter Kind=Unit</c> (one class, fakes for its
/// collaborators), <c>Kind=Functional</c> (the whole client against a scripted server on a real socket)
/// or <c>Kind=RealServer</c> (the whole client against the server process).
/// </summary>
public static class TestKinds
{
    public const string Name = "Kind";
    public const string Unit = "Unit";
    public const string Functional = "Functional";
    public const string RealServer = "RealServer";
}
