using System.Buffers.Binary;
using System.Text;

namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>One frame as the server sent it.</summary>
public sealed record RawFrame(bool Fin, int Opcode, byte[] Payload)
{
    public const int Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    public string AsText => Encoding.UTF8.GetString(Payload);
    /// <summary>The status code of a close frame (1005 when it carries none).</summary>
    public int CloseCode => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : 1005;
    public string CloseReason => Payload.Length > 2 ? Encoding.UTF8.GetString(Payload, 2, Payload.Length - 2) : "";
}
