using SignalStream.Cli.Commands;
using SignalStream.Cli.Tests.Infrastructure;
using SignalStream.Protocol;

namespace SignalStream.Cli.Tests;

/// <summary><c>tail</c>'s table at the widths a trader's terminal has: the essentials at 80 columns, more when wider, nothing wrapped.</summary>
public class TailTableTests
{
    private static readonly string[] Essential = ["TIME", "SYMBOL", "SIDE", "ENTRY", "STOP", "TARGET", "MIN TIER"];
    private static readonly string[] Extra = ["SEQ", "CONF", "TF", "SOURCE"];

    private static Signal Sample(string symbol = "BTC-USD", string source = "acme-quant") => new()
    {
        Id = "s1", Seq = 1234567, ExternalId = "e1", Source = source, Symbol = symbol, Side = "SELL",
        EntryPrice = 65000.12345m, StopLoss = 66000.5m, TakeProfit = 0.000012345m, Confidence = 0.82, Timeframe = "15m",
        MinTier = Tier.Institutional, ReceivedAt = DateTimeOffset.UtcNow,
    };

    private static (string[] Lines, WatchedWriter Out) Render(Func<int>? width, params Signal[] signals)
    {
        var output = new WatchedWriter();
        var ctx = new CliContext { Out = output, Err = new WatchedWriter(), In = new StringReader(""), Environment = _ => null, OutWidth = width };
        var printer = new TailPrinter(ctx, json: false);
        foreach (var signal in signals)
            printer.Signal(signal);
        return (output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries), output);
    }

    [Fact]
    public void At80Columns_EssentialColumnsOnly_NoLineWraps_PricesWhole()
    {
        var (lines, _) = Render(() => 80, Sample());
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.True(l.Length < 80, $"{l.Length} characters: '{l}'"));
        Assert.All(Essential, h => Assert.Contains(h, lines[0]));
        Assert.All(Extra, h => Assert.DoesNotContain(h, lines[0].Replace("MIN TIER", "", StringComparison.Ordinal)));
        foreach (var value in new[] { "BTC-USD", "SELL", "65000.12345", "66000.5", "0.000012345", "INSTITUTIONAL" })
            Assert.Contains(value, lines[1]);
    }

    [Fact]
    public void At120Columns_AddsSeqConfidenceTimeframeAndSource()
    {
        var (lines, _) = Render(() => 120, Sample());
        Assert.All(lines, l => Assert.True(l.Length < 120, $"{l.Length} characters: '{l}'"));
        Assert.All(Essential.Concat(Extra), h => Assert.Contains(h, lines[0]));
        foreach (var value in new[] { "1234567", "0.82", "15m", "acme-quant", "65000.12345", "INSTITUTIONAL" })
            Assert.Contains(value, lines[1]);
    }

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    public void LongTextIsCutWithAnEllipsis_SoTheRowStillFits(int width)
    {
        var (lines, _) = Render(() => width, Sample(symbol: "VERY-LONG-SYMBOL-NAME:EXCHANGE", source: "a-publisher-with-a-long-name"));
        Assert.All(lines, l => Assert.True(l.Length < width, $"{l.Length} characters: '{l}'"));
        Assert.Contains("VERY-LONG-…", lines[1]);
        Assert.Contains("65000.12345", lines[1]);
    }

    [Fact]
    public void ColumnsLineUpUnderTheirHeaders()
    {
        var (lines, _) = Render(() => 120, Sample());
        // Right-aligned prices end where their header ends.
        Assert.Equal(lines[0].IndexOf("ENTRY", StringComparison.Ordinal) + "ENTRY".Length, lines[1].IndexOf("65000.12345", StringComparison.Ordinal) + "65000.12345".Length);
        Assert.Equal(lines[0].IndexOf("SYMBOL", StringComparison.Ordinal), lines[1].IndexOf("BTC-USD", StringComparison.Ordinal));
    }

    [Fact]
    public void ResizedTerminal_NewHeaderWithTheNewColumns()
    {
        var width = 80;
        var output = new WatchedWriter();
        var ctx = new CliContext { Out = output, Err = new WatchedWriter(), In = new StringReader(""), Environment = _ => null, OutWidth = () => width };
        var printer = new TailPrinter(ctx, json: false);
        printer.Signal(Sample());
        printer.Signal(Sample());
        width = 120;
        printer.Signal(Sample());
        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.DoesNotContain("SOURCE", lines[0]);
        Assert.Contains("SOURCE", lines[3]);
        Assert.Contains("acme-quant", lines[4]);
    }

    [Fact]
    public void Pipe_NoWidth_EveryColumn()
    {
        var (lines, _) = Render(null, Sample());
        Assert.All(Essential.Concat(Extra), h => Assert.Contains(h, lines[0]));
    }
}

/// <summary><c>stats</c> on a cluster: one row per node and the totals.</summary>
public class StatsTableTests
{
    [Fact]
    public void Cluster_OneRowPerNode_AndTheTotals()
    {
        var stats = System.Text.Json.Nodes.JsonNode.Parse("""
            {"total_connections":7,"active_users":5,"users_by_tier":{"STARTER":3,"PROFESSIONAL":1,"INSTITUTIONAL":1},"last_seq":42,
             "nodes":[{"node_id":"node-a","total_connections":4,"active_users":3,"seen_at":"2026-12-02T03:00:00.000Z","users_by_tier":{"STARTER":2,"PROFESSIONAL":1,"INSTITUTIONAL":0}},
                      {"node_id":"node-b","total_connections":3,"active_users":2,"seen_at":"2026-12-02T03:00:01.000Z","users_by_tier":{"STARTER":1,"PROFESSIONAL":0,"INSTITUTIONAL":1}}]}
            """)!.AsObject();
        var output = new WatchedWriter();
        var ctx = new CliContext { Out = output, Err = new WatchedWriter(), In = new StringReader(""), Environment = _ => null };
        ctx.CreateOutConsole().Write(StatsCommand.ClusterTable(stats, stats["nodes"]!.AsArray()));

        var lines = output.Text.Split('\n').Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"\s+", " ")).ToArray();
        Assert.Contains(lines, l => l.Contains("NODE │ CONNECTIONS │ ACTIVE USERS │ STARTER │ PROFESSIONAL │ INSTITUTIONAL", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("node-a │ 4 │ 3 │ 2 │ 1 │ 0 │", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("node-b │ 3 │ 2 │ 1 │ 0 │ 1 │", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("total │ 7 │ 5 │ 3 │ 1 │ 1 │ last seq 42", StringComparison.Ordinal));
    }
}
