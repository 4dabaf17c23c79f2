namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>How the upgrade request goes out, beyond the headers.</summary>
/// <param name="PrecedingRequest">A whole HTTP request sent first on the same connection; its response is read and dropped.</param>
/// <param name="Pieces">The upgrade request is written in this many pieces, a short pause apart (a slow network).</param>
/// <param name="FollowedBy">Bytes written with the upgrade request, before its response: frames sent early.</param>
/// <param name="SilenceFirst">The connection stays silent this long before the first byte (a preconnected socket).</param>
public sealed record RawHandshake(string? PrecedingRequest = null, int Pieces = 1, byte[]? FollowedBy = null, TimeSpan SilenceFirst = default);
