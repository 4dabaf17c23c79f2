using Spectre.Console;

namespace SignalStream.Cli;

/// <summary>
/// Everything a command touches outside itself: the standard streams, the environment and whether each
/// stream is a terminal. Tests run the real commands in-process with their own context.
/// </summary>
public sealed class CliContext
{
    /// <summary>Standard output: results only (tables or JSON lines).</summary>
    public required TextWriter Out { get; init; }
    /// <summary>Standard error: errors, state changes, progress, summaries.</summary>
    public required TextWriter Err { get; init; }
    /// <summary>Standard input (for <c>publish --file -</c> and <c>--password-stdin</c>).</summary>
    public required TextReader In { get; init; }
    /// <summary>Reads an environment variable.</summary>
    public required Func<string, string?> Environment { get; init; }
    /// <summary>Whether standard output is a terminal (colours, widths).</summary>
    public bool OutIsTerminal { get; init; }
    /// <summary>Whether standard error is a terminal (live progress).</summary>
    public bool ErrIsTerminal { get; init; }
    /// <summary>
    /// The width of the terminal that shows standard output, asked again for every table row so that a resized
    /// terminal is followed; null when the output is not a terminal (no width to fit).
    /// </summary>
    public Func<int>? OutWidth { get; init; }

    /// <summary>The real process: console streams and environment.</summary>
    public static CliContext FromProcess() => new()
    {
        Out = Console.Out,
        Err = Console.Error,
        In = Console.In,
        Environment = System.Environment.GetEnvironmentVariable,
        OutIsTerminal = !Console.IsOutputRedirected,
        ErrIsTerminal = !Console.IsErrorRedirected,
        OutWidth = Console.IsOutputRedirected ? null : TerminalWidth,
    };

    /// <summary>The console's width; 80 when the terminal does not tell.</summary>
    private static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth is > 0 and var width ? width : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }

    internal IAnsiConsole CreateOutConsole() => CreateConsole(Out, OutIsTerminal);

    internal IAnsiConsole CreateErrConsole() => CreateConsole(Err, ErrIsTerminal);

    private static IAnsiConsole CreateConsole(TextWriter writer, bool terminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
            console.Profile.Width = 200; // a pipe has no width: never wrap table rows
        return console;
    }
}
