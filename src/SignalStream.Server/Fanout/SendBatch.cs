using System.Runtime.InteropServices;
using SignalStream.Server.Transport;

namespace SignalStream.Server.Fanout;

/// <summary>
/// A fan-out shard's writes to idle sockets during one pass, handed to the kernel together: each write a
/// connection would make at once goes into the shard's <see cref="SendRing"/>, and the ring is submitted
/// when full and at the end of the pass, one system call for up to <see cref="Entries"/> sockets. The
/// outcomes come back within that call, and each goes to its connection as a <c>send()</c>'s would: all
/// taken, part taken (the rest continues asynchronously), or failed. Used by its shard's loop only.
/// </summary>
public sealed class SendBatch : IDisposable
{
    /// <summary>Sockets per system call: a pass of a thousand connections makes four.</summary>
    internal const int Entries = 256;

    private const int EIO = 5;

    private readonly SendRing _ring;
    private bool _broken;
    private readonly StreamConnection?[] _writers = new StreamConnection?[Entries];
    private readonly StreamConnection.Outbound[] _items = new StreamConnection.Outbound[Entries * StreamConnection.MaxBatch];
    private readonly int[] _counts = new int[Entries];
    // The frames of this submission, pinned until it is done: a pass writes the same few frames to every socket.
    private readonly List<(byte[] Frame, GCHandle Pin)> _pinned = [];

    private SendBatch(SendRing ring) => _ring = ring;

    /// <summary>A batch, or null where io_uring is unavailable (<see cref="SendRing.TryCreate"/>).</summary>
    public static SendBatch? TryCreate(out string unavailable) =>
        SendRing.TryCreate(Entries, StreamConnection.MaxBatch, out unavailable) is { } ring ? new SendBatch(ring) : null;

    /// <summary>
    /// Takes the write of <paramref name="items"/> to <paramref name="socket"/>; false when the socket cannot
    /// take one now (a write is under way, or it has closed): the caller writes them the usual way.
    /// </summary>
    internal bool TryAdd(StreamConnection connection, PipeWebSocket socket, ReadOnlySpan<StreamConnection.Outbound> items)
    {
        // Never submits here: the items may be a thread's buffer that the outcomes' own sends reuse.
        if (_broken || _ring.IsFull || !socket.TryBeginRingWrite(out var fd)) return false;
        var slot = _ring.Queued;
        _writers[slot] = connection;
        items.CopyTo(_items.AsSpan(slot * StreamConnection.MaxBatch));
        _counts[slot] = items.Length;
        if (items.Length == 1)
        {
            var frame = items[0].Frame.WebSocketFrameSegment;
            unsafe { _ring.Send(fd, (byte*)Pin(frame.Array!), frame.Count, (ulong)slot); }
            return true;
        }
        Span<(nint, int)> buffers = stackalloc (nint, int)[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            var frame = items[i].Frame.WebSocketFrameSegment;
            buffers[i] = (Pin(frame.Array!), frame.Count);
        }
        _ring.SendGathered(fd, buffers, (ulong)slot);
        return true;
    }

    /// <summary>Full: the pass submits before its next offer.</summary>
    public bool IsFull => _ring.IsFull;

    /// <summary>Hands the queued writes to the kernel and each outcome to its connection.</summary>
    public void Submit()
    {
        if (_broken || _ring.Queued == 0) return;
        try
        {
            _ring.Submit(this, static (batch, slot, result) => batch.Completed((int)slot, result));
        }
        catch (IOException)
        {
            // Not seen in practice (only a broken ring fails this way): the ring goes, and so do the connections
            // whose writes had no outcome; the shard writes the usual way from now on.
            _broken = true;
            _ring.Dispose();
            for (var slot = 0; slot < Entries; slot++)
                if (_writers[slot] is not null) Completed(slot, -EIO);
        }
        finally
        {
            foreach (var (_, pin) in _pinned) pin.Free();
            _pinned.Clear();
        }
    }

    private void Completed(int slot, int result)
    {
        var writer = _writers[slot]!;
        _writers[slot] = null;
        var items = _items.AsSpan(slot * StreamConnection.MaxBatch, _counts[slot]);
        writer.RingWriteDone(items, result);
        items.Clear(); // the frames are not kept alive by the next pass's slots
    }

    private nint Pin(byte[] frame)
    {
        foreach (var (pinned, pin) in _pinned)
            if (ReferenceEquals(pinned, frame)) return pin.AddrOfPinnedObject();
        var handle = GCHandle.Alloc(frame, GCHandleType.Pinned);
        _pinned.Add((frame, handle));
        return handle.AddrOfPinnedObject();
    }

    public void Dispose() => _ring.Dispose();
}
