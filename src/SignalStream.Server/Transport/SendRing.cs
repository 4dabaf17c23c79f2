using System.Runtime.InteropServices;

namespace SignalStream.Server.Transport;

/// <summary>
/// Many non-blocking sends, to many sockets, in one system call: a Linux io_uring whose entries are all
/// <c>MSG_DONTWAIT</c> sends, submitted together and completed inline by the kernel within the same
/// <c>io_uring_enter</c> (a socket without room answers <c>-EAGAIN</c> or a short count at once, as
/// <c>send()</c> would; nothing is left running in the kernel). Loopback measurement on this project's
/// machine: about 4 µs of CPU per send in batches of 256 against 6-9 µs for one <c>send()</c> each; the
/// network stack's work is the same, the crossings into the kernel are what a batch saves.
/// Used by one thread at a time (a fan-out shard's pass); not thread-safe.
/// </summary>
public sealed unsafe partial class SendRing : IDisposable
{
    private const int SysIoUringSetup = 425; // the same number on every Linux architecture
    private const int SysIoUringEnter = 426;
    private const uint SetupSubmitAll = 1 << 7; // an entry failing to start does not stop the ones after it
    private const uint EnterGetEvents = 1;
    private const uint FeatSingleMmap = 1;
    private const uint FeatNativeWorkers = 1 << 9; // Linux 5.12: sends exist, and MSG_DONTWAIT answers -EAGAIN instead of waiting
    private const byte OpSendMsg = 9;
    private const byte OpSend = 26;
    private const uint MsgDontWait = 0x40;
    private const uint MsgNoSignal = 0x4000;
    private const int EIntr = 4, EAgain = 11, EBusy = 16;
    private const long OffSqRing = 0, OffCqRing = 0x8000000, OffSqes = 0x10000000;
    private const int SqeSize = 64, CqeSize = 16, MsgHdrSize = 56, IovecSize = 16;

    private readonly int _ringFd;
    private readonly void* _sqRing, _cqRing, _sqes;
    private readonly nuint _sqRingBytes, _cqRingBytes, _sqesBytes;
    private readonly uint* _sqTail, _cqHead, _cqTail;
    private readonly uint _sqMask, _cqMask;
    private readonly byte* _cqes;
    private readonly byte* _messages; // a msghdr and MaxFrames iovecs per entry, for the gathered sends
    private int _queued;
    private bool _disposed;

    /// <summary>The most entries submitted at once.</summary>
    public int Capacity { get; }
    /// <summary>The most buffers one entry gathers.</summary>
    public int MaxFrames { get; }
    public int Queued => _queued;
    public bool IsFull => _queued == Capacity;

    private SendRing(int ringFd, in Params p, int maxFrames)
    {
        _ringFd = ringFd;
        Capacity = (int)p.SqEntries;
        MaxFrames = maxFrames;
        _sqRingBytes = p.SqOff.Array + p.SqEntries * sizeof(uint);
        _cqRingBytes = p.CqOff.Cqes + p.CqEntries * CqeSize;
        var single = (p.Features & FeatSingleMmap) != 0;
        if (single) _sqRingBytes = _cqRingBytes = Math.Max(_sqRingBytes, _cqRingBytes);
        _sqRing = Map(ringFd, _sqRingBytes, OffSqRing);
        _cqRing = single ? _sqRing : Map(ringFd, _cqRingBytes, OffCqRing);
        _sqesBytes = p.SqEntries * SqeSize;
        _sqes = Map(ringFd, _sqesBytes, OffSqes);
        var sq = (byte*)_sqRing;
        var cq = (byte*)_cqRing;
        _sqTail = (uint*)(sq + p.SqOff.Tail);
        _sqMask = *(uint*)(sq + p.SqOff.RingMask);
        _cqHead = (uint*)(cq + p.CqOff.Head);
        _cqTail = (uint*)(cq + p.CqOff.Tail);
        _cqMask = *(uint*)(cq + p.CqOff.RingMask);
        _cqes = cq + p.CqOff.Cqes;
        // Entry i always sits in slot i: the indirection array is filled once.
        var array = (uint*)(sq + p.SqOff.Array);
        for (uint i = 0; i < p.SqEntries; i++) array[i] = i;
        _messages = (byte*)NativeMemory.AllocZeroed((nuint)(Capacity * MessageBytes));
    }

    private int MessageBytes => MsgHdrSize + MaxFrames * IovecSize;

    /// <summary>A ring of <paramref name="entries"/> (a power of two), or null and why where io_uring is unavailable
    /// (not Linux, a kernel older than 5.12, or forbidden: container seccomp profiles commonly refuse it).</summary>
    public static SendRing? TryCreate(int entries, int maxFrames, out string unavailable)
    {
        unavailable = "not Linux";
        if (!OperatingSystem.IsLinux()) return null;
        foreach (var flags in (ReadOnlySpan<uint>)[SetupSubmitAll, 0])
        {
            Params p = default;
            p.Flags = flags;
            long fd;
            try { fd = Syscall(SysIoUringSetup, entries, (nint)(&p), 0, 0, 0, 0); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                unavailable = "no libc";
                return null;
            }
            if (fd >= 0)
            {
                if ((p.Features & FeatNativeWorkers) != 0 && p.SqEntries == entries) return new SendRing((int)fd, p, maxFrames);
                Close((int)fd);
                unavailable = "a kernel older than 5.12";
                return null;
            }
            unavailable = $"io_uring_setup: errno {Marshal.GetLastPInvokeError()}";
        }
        return null;
    }

    /// <summary>Queues one send of <paramref name="length"/> bytes at <paramref name="buffer"/> (pinned until <see cref="Submit"/>).</summary>
    public void Send(int fd, byte* buffer, int length, ulong userData)
    {
        var sqe = NextEntry();
        sqe[0] = OpSend;
        *(int*)(sqe + 4) = fd;
        *(ulong*)(sqe + 16) = (ulong)buffer;
        *(uint*)(sqe + 24) = (uint)length;
        *(uint*)(sqe + 28) = MsgDontWait | MsgNoSignal;
        *(ulong*)(sqe + 32) = userData;
    }

    /// <summary>Queues one gathered send of the buffers (each pinned until <see cref="Submit"/>), at most <see cref="MaxFrames"/>.</summary>
    public void SendGathered(int fd, ReadOnlySpan<(nint Buffer, int Length)> buffers, ulong userData)
    {
        var message = _messages + _queued * MessageBytes;
        var iovecs = message + MsgHdrSize;
        for (var i = 0; i < buffers.Length; i++)
        {
            *(nint*)(iovecs + i * IovecSize) = buffers[i].Buffer;
            *(nuint*)(iovecs + i * IovecSize + 8) = (nuint)buffers[i].Length;
        }
        *(nint*)(message + 16) = (nint)iovecs; // msg_iov
        *(nuint*)(message + 24) = (nuint)buffers.Length; // msg_iovlen
        var sqe = NextEntry();
        sqe[0] = OpSendMsg;
        *(int*)(sqe + 4) = fd;
        *(ulong*)(sqe + 16) = (ulong)message;
        *(uint*)(sqe + 24) = 1;
        *(uint*)(sqe + 28) = MsgDontWait | MsgNoSignal;
        *(ulong*)(sqe + 32) = userData;
    }

    private byte* NextEntry()
    {
        if (IsFull) throw new InvalidOperationException("the ring is full: submit first");
        var tail = *_sqTail + (uint)_queued;
        var sqe = (byte*)_sqes + (tail & _sqMask) * SqeSize;
        new Span<byte>(sqe, SqeSize).Clear();
        _queued++;
        return sqe;
    }

    /// <summary>
    /// Submits what is queued and waits for every outcome (they come back within the call: the sends do not
    /// wait); <paramref name="completed"/> is given each entry's user data and result: bytes sent, or -errno.
    /// </summary>
    public void Submit<TState>(TState state, Action<TState, ulong, int> completed)
    {
        var count = (uint)_queued;
        if (count == 0) return;
        Volatile.Write(ref *_sqTail, *_sqTail + count); // the entries are written before the kernel sees the tail
        _queued = 0;
        var toSubmit = count;
        var reaped = 0u;
        while (reaped < count)
        {
            var entered = Syscall(SysIoUringEnter, _ringFd, toSubmit, count - reaped, EnterGetEvents, 0, 0);
            if (entered < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno is not (EIntr or EAgain or EBusy)) throw new IOException($"io_uring_enter failed: errno {errno}");
            }
            else toSubmit -= (uint)entered;
            var head = *_cqHead;
            var tail = Volatile.Read(ref *_cqTail);
            for (; head != tail; head++)
            {
                var cqe = _cqes + (head & _cqMask) * CqeSize;
                completed(state, *(ulong*)cqe, *(int*)(cqe + 8));
                reaped++;
            }
            Volatile.Write(ref *_cqHead, head);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMemory.Free(_messages);
        MUnmap(_sqes, _sqesBytes);
        if (_cqRing != _sqRing) MUnmap(_cqRing, _cqRingBytes);
        MUnmap(_sqRing, _sqRingBytes);
        Close(_ringFd);
    }

    private static void* Map(int fd, nuint length, long offset)
    {
        const int protReadWrite = 0x1 | 0x2, mapShared = 0x01, mapPopulate = 0x8000;
        var address = MMap(null, length, protReadWrite, mapShared | mapPopulate, fd, offset);
        if (address == (void*)-1) throw new IOException($"mmap of the io_uring failed: errno {Marshal.GetLastPInvokeError()}");
        return address;
    }

    // glibc's syscall() takes its arguments as integer registers, variadic or not.
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a1, long a2, long a3, long a4, long a5, long a6);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* MMap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int MUnmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    // struct io_uring_params and its offsets (linux/io_uring.h).
    [StructLayout(LayoutKind.Sequential)]
    private struct Params
    {
        public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd;
        private fixed uint _reserved[3];
        public SqRingOffsets SqOff;
        public CqRingOffsets CqOff;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SqRingOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Reserved;
        public ulong UserAddr;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CqRingOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Reserved;
        public ulong UserAddr;
    }
}
