using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>Keeps every log entry so tests can assert on event names (and that no token leaks).</summary>
public sealed class TestLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string? EventName, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId.Name, formatter(state, exception) + (exception is null ? "" : " | " + exception)));

    public int Count(string eventName) => Entries.Count(e => e.EventName == eventName);
}
