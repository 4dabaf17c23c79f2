using System.CommandLine;
using System.CommandLine.Parsing;

namespace SignalStream.Cli;

/// <summary>
/// A parse error in words a user reads: an unknown command or option with the closest known one, a value that is not a
/// number named as such instead of by its .NET type, a command that needs a subcommand with the ones it has.
/// </summary>
internal static class UsageErrors
{
    public static string Describe(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            var (what, known) = token.StartsWith('-')
                ? ("option", OptionNames(parse.CommandResult))
                : command.Subcommands.Count > 0 ? ("command", command.Subcommands.Select(c => c.Name)) : ("argument", []);
            var text = $"unknown {what} '{token}'";
            return Closest(token, known) is { } suggestion ? $"{text}; did you mean '{suggestion}'?" : text;
        }

        var error = parse.Errors[0];
        if (error.SymbolResult is OptionResult { Tokens.Count: > 0 } option && Kind(option.Option.ValueType) is { } kind)
            return $"{option.IdentifierToken?.Value ?? option.Option.Name} takes {kind}, and '{option.Tokens[0].Value}' is not one";
        if (error.SymbolResult is ArgumentResult { Tokens.Count: > 0 } argument && Kind(argument.Argument.ValueType) is { } argKind)
            return $"<{argument.Argument.Name}> takes {argKind}, and '{argument.Tokens[0].Value}' is not one";
        if (command.Subcommands.Count > 0 && command.Action is null)
            return $"'{command.Name}' needs a command: {string.Join(", ", command.Subcommands.Select(c => c.Name))}";
        return error.Message;
    }

    /// <summary>The options a command accepts: its own and the recursive ones of the commands above it.</summary>
    private static IEnumerable<string> OptionNames(CommandResult result)
    {
        for (SymbolResult? r = result; r is CommandResult c; r = c.Parent)
        {
            foreach (var option in c.Command.Options.Where(o => r == result || o.Recursive))
            {
                yield return option.Name;
                foreach (var alias in option.Aliases)
                    yield return alias;
            }
        }
    }

    private static string? Kind(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(int) || t == typeof(long) => "a whole number",
        var t when t == typeof(decimal) || t == typeof(double) => "a number",
        _ => null,
    };

    /// <summary>The known name nearest to what was typed: a prefix of it, or one or two edits away for longer names.</summary>
    internal static string? Closest(string typed, IEnumerable<string> known)
    {
        var candidates = known.Distinct().ToList();
        if (candidates.Where(k => typed.Length >= 2 && k.StartsWith(typed, StringComparison.OrdinalIgnoreCase)).ToList() is [var only])
            return only;
        return candidates
            .Select(k => (Name: k, Distance: Distance(typed.ToLowerInvariant(), k.ToLowerInvariant())))
            .Where(c => c.Distance <= Math.Max(1, Math.Min(typed.Length, c.Name.Length) / 3))
            .OrderBy(c => c.Distance)
            .Select(c => c.Name)
            .FirstOrDefault();
    }

    /// <summary>Edits (insert, delete, replace, swap two neighbours) from one word to the other: a transposed pair of letters is one slip.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
