namespace SignalStream.Client.Rest;

/// <summary>The credentials were refused.</summary>
internal sealed class UnauthorizedException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
