namespace SignalStream.Cli;

/// <summary>Exit codes, as documented in <c>signalstream --help</c>.</summary>
public static class ExitCodes
{
    /// <summary>Everything worked.</summary>
    public const int Ok = 0;
    /// <summary>The command ran but something failed (a refused line, an existing user, ...).</summary>
    public const int Failure = 1;
    /// <summary>A wrong option, a missing argument or key.</summary>
    public const int Usage = 2;
    /// <summary>The server could not be reached, or refused the credentials.</summary>
    public const int Unavailable = 3;
}

/// <summary>An error the user can act on: printed as one line, mapped to an exit code.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    /// <summary>The process exit code.</summary>
    public int ExitCode { get; } = exitCode;

    internal static CliException Usage(string message) => new(ExitCodes.Usage, message);
    internal static CliException Failure(string message) => new(ExitCodes.Failure, message);
    internal static CliException Unavailable(string message) => new(ExitCodes.Unavailable, message);
}
