using Xunit.Abstractions;
using Xunit.Sdk;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// Runs the tests of a class in <see cref="TestOrderAttribute"/> order. The scale-out tests share one
/// cluster and each repairs what it needs, but a known order lets the last fault tests leave their
/// damage behind instead of paying for a node restart nobody uses.
/// </summary>
public sealed class TestOrderer : ITestCaseOrderer
{
    public const string TypeName = "SignalStream.Server.Tests.Infrastructure.TestOrderer";
    public const string AssemblyName = "SignalStream.Server.Tests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.GetCustomAttributes(typeof(TestOrderAttribute).AssemblyQualifiedName)
            .FirstOrDefault()?.GetConstructorArguments().FirstOrDefault() as int? ?? int.MaxValue);
}
