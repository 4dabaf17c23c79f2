using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SignalStream.Protocol;
using SignalStream.Server.Observability;
using SignalStream.Server.Tests.Infrastructure;

namespace SignalStream.Server.Tests.Observability;

/// <summary>Operators see why sockets close: counted by code and initiator, logged with user and reason, never a flood.</summary>
public sealed class CloseLogTests
{
    [Fact]
    [Trait("Kind", "Unit")]
    public void ManyClosesAtOnce_LogALineEachUpToTheAllowance_ThenOneSummaryByCode()
    {
        var clock = new FakeTimeProvider();
        var logger = new ListLogger();
        var log = new CloseLog(clock, logger);

        for (var i = 0; i < CloseLog.LinesPerInterval + 2; i++) log.ServerClosed($"c{i}", $"user-{i}", CloseCodes.TokenExpired, "token expired");
        for (var i = 0; i < 3; i++) log.ServerClosed($"s{i}", "slow-user", CloseCodes.SlowConsumer, "slow consumer");

        Assert.Equal(CloseLog.LinesPerInterval, logger.Lines.Count);
        Assert.Contains(logger.Lines, line => line.Contains("user-0", StringComparison.Ordinal) && line.Contains("4001", StringComparison.Ordinal) && line.Contains("token expired", StringComparison.Ordinal));
        clock.Advance(CloseLog.Interval);
        var summary = Assert.Single(logger.Lines.Skip(CloseLog.LinesPerInterval));
        Assert.Contains("5 more", summary, StringComparison.Ordinal);
        Assert.Contains("4001: 2, 4004: 3", summary, StringComparison.Ordinal);

        log.ServerClosed("late", "late-user", CloseCodes.UserDisabled, "user disabled"); // a new interval: a line again
        Assert.Contains("late-user", logger.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Kind", "Functional")]
    public async Task ServerAndClientCloses_AreCountedByCodeAndInitiator_AndServerOnesLoggedWithUserAndReason()
    {
        await using var server = await TestServer.StartAsync();
        var before = await ObservabilityTests.ScrapeAsync(server);

        // The server's decision: the user is disabled.
        var disabled = await server.CreateUserAsync(Tier.Starter);
        var (first, _) = await server.ConnectWelcomedAsync(disabled.Token);
        await using (first)
        {
            (await server.UpdateUserAsync(disabled.Id, new { disabled = true })).Dispose();
            Assert.Equal(CloseCodes.UserDisabled, await first.ExpectCloseAsync());
        }
        // A rule the client broke, caught by the socket itself: text that is not UTF-8.
        var user = await server.CreateUserAsync(Tier.Starter);
        var (second, _) = await server.ConnectWelcomedAsync(user.Token);
        await using (second)
        {
            await second.Inner.SendAsync(new byte[] { 0xC3, 0x28 }, WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal(1007, await second.ExpectCloseAsync());
        }
        // The client's own close.
        var (third, _) = await server.ConnectWelcomedAsync(user.Token);
        await third.DisposeAsync();

        await Eventually.ResultAsync(async () =>
        {
            var scrape = await ObservabilityTests.ScrapeAsync(server);
            bool Counted(string labels) => ObservabilityTests.Sum(scrape, "signalstream_disconnects_total", labels) > ObservabilityTests.Sum(before, "signalstream_disconnects_total", labels);
            return Counted("code=\"4503\",initiator=\"server\"") && Counted("code=\"1007\",initiator=\"server\"") && Counted("code=\"1000\",initiator=\"client\"") ? scrape : null;
        }, "each close counted with its initiator");
        Assert.Contains(server.Logs, line => line.Contains("Server closed connection", StringComparison.Ordinal) && line.Contains(disabled.Id, StringComparison.Ordinal)
            && line.Contains("4503", StringComparison.Ordinal) && line.Contains("user disabled", StringComparison.Ordinal));
        Assert.Contains(server.Logs, line => line.Contains("Server closed connection", StringComparison.Ordinal) && line.Contains(user.Id, StringComparison.Ordinal)
            && line.Contains("1007", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Kind", "Functional")]
    public async Task StoredSignalLines_AreDebugOnly()
    {
        await using var server = await TestServer.StartAsync();
        var seq = await server.PublishAsync();
        var stored = Assert.Single(server.Logs, line => line.Contains($"Stored signal {seq} ", StringComparison.Ordinal));
        Assert.StartsWith("Debug ", stored, StringComparison.Ordinal);
    }

    private sealed class ListLogger : ILogger<CloseLog>
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => Lines.Add(formatter(state, exception));
    }
}
