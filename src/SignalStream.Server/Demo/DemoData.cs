using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using SignalStream.Protocol;
using SignalStream.Server.Auth;
using SignalStream.Server.Ingest;
using SignalStream.Server.Observability;
using SignalStream.Server.Storage;

namespace SignalStream.Server.Demo;

/// <summary>
/// With <c>--demo</c> only: seeds one user per tier into an empty user store, so a newcomer can log in at once.
/// Their passwords are generated, printed once and kept in <c>{Data:Directory}/initial-credentials.txt</c> (mode 600).
/// </summary>
public sealed class DemoSeeder(IUserStore users, Passwords passwords, IOptions<DataOptions> data, ILogger<DemoSeeder> logger)
{
    public async Task SeedAsync(TextWriter console, CancellationToken ct)
    {
        if (await users.GetVersionAsync(ct) > 0) return; // users are never deleted: version 0 means none was ever created
        var lines = new List<string>();
        foreach (var tier in Enum.GetValues<Tier>())
        {
            var username = tier.ToWire().ToLowerInvariant();
            var password = Secrets.Base64Url(RandomNumberGenerator.GetBytes(9));
            if (await users.CreateAsync(username, passwords.Hash(password), tier, ct) is null) continue;
            logger.SeededUser(username, tier.ToWire());
            lines.Add($"{username,-14} {password}   ({tier.ToWire()})");
        }
        if (lines.Count == 0) return;
        var path = Path.Combine(data.Value.Directory, "initial-credentials.txt");
        Directory.CreateDirectory(data.Value.Directory);
        await File.WriteAllLinesAsync(path, ["# Demo users seeded at first start (username, password). Change or disable them with the admin API.", .. lines], ct);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        console.WriteLine("Demo users (username, password):");
        foreach (var line in lines) console.WriteLine("  " + line);
        console.WriteLine($"Kept in {Path.GetFullPath(path)}.");
    }
}

/// <summary>With <c>--demo</c>: publishes a plausible signal every few seconds through the real ingest path.</summary>
public sealed class DemoPublisher(IngestService ingest, IOptions<DemoOptions> options, TimeProvider time, ILogger<DemoPublisher> logger) : BackgroundService
{
    private static readonly (string Symbol, decimal Price)[] Markets =
    [
        ("BTC-USD", 65_000m), ("ETH-USD", 3_400m), ("SOL-USD", 150m), ("EUR-USD", 1.08m), ("AAPL", 190m), ("NVDA", 120m),
    ];
    private static readonly string[] Timeframes = ["5m", "15m", "1h", "4h", "1d"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval, time);
        var random = new Random();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await ingest.IngestAsync(Next(random), Stopwatch.GetTimestamp(), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.DemoFailed(e);
            }
        }
    }

    private ValidSignal Next(Random random)
    {
        var (symbol, basePrice) = Markets[random.Next(Markets.Length)];
        var buy = random.Next(2) == 0;
        var entry = decimal.Round(basePrice * (1 + (decimal)(random.NextDouble() - 0.5) / 50), basePrice < 10 ? 5 : 2);
        var risk = entry * (0.005m + (decimal)random.NextDouble() / 100);
        var tier = (Tier)random.Next(3);
        return new ValidSignal(
            ExternalId: Guid.NewGuid().ToString("N"), Source: "demo-publisher", Symbol: symbol, Side: buy ? "BUY" : "SELL",
            EntryPrice: entry,
            StopLoss: decimal.Round(buy ? entry - risk : entry + risk, basePrice < 10 ? 5 : 2),
            TakeProfit: decimal.Round(buy ? entry + 2 * risk : entry - 2 * risk, basePrice < 10 ? 5 : 2),
            Confidence: Math.Round(0.5 + random.NextDouble() / 2, 2),
            Timeframe: Timeframes[random.Next(Timeframes.Length)], MinTier: tier,
            Notes: tier == Tier.Starter ? null : "demo premium idea", GeneratedAt: time.GetUtcNow());
    }
}
