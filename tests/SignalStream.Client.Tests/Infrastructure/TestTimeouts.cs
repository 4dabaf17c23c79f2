namespace SignalStream.Client.Tests.Infrastructure;

public static class TestTimeouts
{
    /// <summary>How long a test waits for something that should happen; generous for a loaded 2-core CI machine.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);
}
