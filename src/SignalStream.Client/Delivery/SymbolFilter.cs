namespace SignalStream.Client.Delivery;

/// <summary>
/// The consumer's symbol filter (null: all symbols). The server applies it to the socket; the REST list
/// does not filter, so signals fetched from it are checked here.
/// </summary>
internal sealed class SymbolFilter(IEnumerable<string>? symbols)
{
    private volatile string[]? _symbols = Normalize(symbols);

    /// <summary>The filter as sent to the server; null for all symbols.</summary>
    public string[]? Current => _symbols;

    /// <summary>Replaces the filter; returns it as sent to the server.</summary>
    public string[]? Replace(IEnumerable<string> symbols) => _symbols = Normalize(symbols);

    /// <summary>Whether a signal for <paramref name="symbol"/> passes the filter.</summary>
    public bool Allows(string symbol) => _symbols is not { } list || list.Contains(symbol, StringComparer.OrdinalIgnoreCase);

    private static string[]? Normalize(IEnumerable<string>? symbols)
    {
        var list = symbols?.Select(s => s.Trim()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        return list is { Length: > 0 } ? list : null;
    }
}
