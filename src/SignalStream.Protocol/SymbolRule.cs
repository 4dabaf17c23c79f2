namespace SignalStream.Protocol;

/// <summary>The syntax of a symbol, as a signal carries it and as a stream's <c>symbols</c> filter names it.</summary>
public static class SymbolRule
{
    /// <summary>The longest symbol.</summary>
    public const int MaxLength = 32;

    /// <summary>At most this many symbols in one <c>symbols</c> filter.</summary>
    public const int MaxPerFilter = 100;

    /// <summary>1 to <see cref="MaxLength"/> ASCII letters, digits and <c>- _ . / :</c>.</summary>
    public static bool IsValidSymbol(string symbol) =>
        symbol.Length is > 0 and <= MaxLength && symbol.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':');
}
