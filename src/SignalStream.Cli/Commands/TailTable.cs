using System.Globalization;
using SignalStream.Protocol;

namespace SignalStream.Cli.Commands;

/// <summary>
/// The columns <c>tail</c> shows for a terminal width. The essential ones (time, symbol, side, the three prices and the
/// minimum tier) fit in 80 columns; wider terminals add seq, confidence, timeframe and source, in that order, as far
/// as they fit. A row never runs past the width because of text: a symbol or source too long for its column is cut
/// with an ellipsis. Prices are never cut; the columns are wide enough for any price of up to 11 characters.
/// </summary>
internal sealed class TailTable
{
    private const string Gap = " ";

    private sealed record Column(string Header, int Width, bool Right, int Priority, bool Cuttable, Func<Signal, string> Value);

    /// <summary>Every column in the order shown; priority 0 is always shown, then 1, 2, ... while they fit.</summary>
    private static readonly Column[] All =
    [
        new("SEQ", 8, true, 1, false, s => s.Seq.ToString(CultureInfo.InvariantCulture)),
        new("TIME", 12, false, 0, false, s => s.ReceivedAt.ToLocalTime().ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)),
        new("SYMBOL", 11, false, 0, true, s => s.Symbol),
        new("SIDE", 4, false, 0, true, s => s.Side),
        new("ENTRY", 11, true, 0, false, s => Number(s.EntryPrice)),
        new("STOP", 11, true, 0, false, s => Number(s.StopLoss)),
        new("TARGET", 11, true, 0, false, s => Number(s.TakeProfit)),
        new("CONF", 5, true, 2, false, s => s.Confidence?.ToString("0.00", CultureInfo.InvariantCulture) ?? "-"),
        new("TF", 4, false, 3, true, s => s.Timeframe ?? "-"),
        new("MIN TIER", 13, false, 0, false, s => s.MinTier.ToWire()),
        new("SOURCE", 16, false, 4, true, s => s.Source),
    ];

    private readonly Column[] _columns;

    private TailTable(Column[] columns) => _columns = columns;

    /// <summary>The table for a terminal of <paramref name="width"/> columns; every column when there is no width (a pipe).</summary>
    public static TailTable For(int? width)
    {
        // The last character of a line stays free: some terminals wrap a line that fills the width exactly.
        var room = width is { } w ? w - 1 : int.MaxValue;
        var chosen = All.Where(c => c.Priority == 0).ToList();
        foreach (var optional in All.Where(c => c.Priority > 0).OrderBy(c => c.Priority))
        {
            if (LineWidth(chosen) + Gap.Length + optional.Width <= room)
                chosen.Add(optional);
        }
        return new TailTable([.. All.Where(chosen.Contains)]);
    }

    /// <summary>The column headers, as shown.</summary>
    public IEnumerable<string> Headers => _columns.Select(c => c.Header);

    /// <summary>The header line.</summary>
    public string HeaderLine() => Joined(_columns.Select(c => Fit(c, c.Header)));

    /// <summary>One signal's cells, padded to their columns, with the header each belongs to.</summary>
    public IEnumerable<(string Header, string Text)> Cells(Signal signal) => _columns.Select(c => (c.Header, Fit(c, c.Value(signal))));

    /// <summary>Cells as one line, without the padding of the last one.</summary>
    public static string Joined(IEnumerable<string> cells) => string.Join(Gap, cells).TrimEnd();

    private static int LineWidth(IEnumerable<Column> columns) => columns.Sum(c => c.Width + Gap.Length) - Gap.Length;

    private static string Fit(Column column, string text)
    {
        if (text.Length > column.Width && column.Cuttable)
            text = text[..(column.Width - 1)] + "…";
        return column.Right ? text.PadLeft(column.Width) : text.PadRight(column.Width);
    }

    private static string Number(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";
}
