namespace SignalStream.Client;

/// <summary>The client stopped for good, or could not start.</summary>
public class SignalStreamException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SignalStreamException() { }

    /// <summary>Creates the exception.</summary>
    public SignalStreamException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public SignalStreamException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates the exception from the reason the connection ended.</summary>
    public SignalStreamException(string message, ReconnectContext cause) : base(message, cause?.Exception)
    {
        Cause = cause;
    }

    /// <summary>Why the last connection ended, when known.</summary>
    public ReconnectContext? Cause { get; }

    /// <summary>Whether the credentials were refused (401/403, a failed login, or a 4500-4999 close).</summary>
    public bool IsAuthenticationFailure => Cause is { Reason: DisconnectReason.Unauthorized } or { CloseStatus: >= 4500 and <= 4999 };
}
