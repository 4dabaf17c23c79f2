namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>Where a test runs among the tests of its class (lowest first; unmarked tests last).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TestOrderAttribute(int order) : Attribute
{
    public int Order { get; } = order;
}
