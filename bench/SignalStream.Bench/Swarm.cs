using System.Diagnostics;
using System.Net;
using HdrHistogram;

namespace SignalStream.Bench;

/// <summary>What a run measures. <see cref="SignalStreamTraced"/> is the SignalStream server with its traces exported (issue 16).</summary>
public enum TargetKind { SignalStream, Ceiling, SignalR, SignalStreamTraced }

public static class TargetKinds
{
    /// <summary>The server a target runs, its build and its prepared users: the traced variant runs SignalStream's.</summary>
    public static TargetKind Server(this TargetKind kind) => kind == TargetKind.SignalStreamTraced ? TargetKind.SignalStream : kind;

    /// <summary>Every signal traced: the server exports to the bench's OTLP sink, and each ingest POST carries a sampled traceparent.</summary>
    public static bool Traced(this TargetKind kind) => kind == TargetKind.SignalStreamTraced;
}

/// <summary>A user the generator may connect as: its token (none for the ceiling) and tier 0..2.</summary>
public sealed record BenchUser(string? Token, int Tier);

/// <summary>
/// The clients held by one process, and the bookkeeping of a measurement window. Publisher
/// index k names every signal: its external_id is <c>bench-{k}-{stopwatch timestamp of the POST start}</c>,
/// so any generator process on this machine (one monotonic clock) computes the latency of a
/// delivery from the frame alone, and its min_tier is <c>k % 3</c>.
/// </summary>
public sealed class Swarm
{
    private readonly List<WsClient> _clients = [];
    private readonly IPEndPoint _server;
    private readonly string _host;
    private readonly BenchUser[] _users;
    private LongConcurrentHistogram _latency = NewHistogram();
    private long _k0;
    private int _capacity;
    private long _valid, _welcomed, _frames;

    public Swarm(TargetKind kind, int port, BenchUser[] users)
    {
        Kind = kind;
        _server = new IPEndPoint(IPAddress.Loopback, port);
        _host = $"127.0.0.1:{port}";
        _users = users;
    }

    public TargetKind Kind { get; }
    /// <summary>SignalR through Microsoft.AspNetCore.SignalR.Client instead of the raw protocol client.</summary>
    public bool OfficialSignalRClient { get; init; }
    public int Count => _clients.Count;
    public long Welcomed => Interlocked.Read(ref _welcomed);
    public long ValidDeliveries => Interlocked.Read(ref _valid);
    public long Frames => Interlocked.Read(ref _frames);
    public int OpenCount => _clients.Count(c => c.Open);

    public static LongConcurrentHistogram NewHistogram() => new(1, 600_000_000, 3); // microseconds, up to 10 minutes

    public static int TierOf(long k) => (int)(k % 3);

    private string PathFor(WsClient client, long afterSeq) => Kind switch
    {
        TargetKind.SignalStream => afterSeq >= 0 ? $"/ws/signals?after_seq={afterSeq}" : "/ws/signals",
        TargetKind.Ceiling => $"/ws?tier={client.Tier}",
        _ => "/hubs/signals",
    };

    /// <summary>Opens clients <paramref name="firstIndex"/>.. with at most <paramref name="concurrency"/> handshakes in flight.</summary>
    public async Task<ConnectReport> ConnectAsync(int firstIndex, int count, int slowEvery, int concurrency, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        var added = new List<WsClient>(count);
        for (var i = 0; i < count; i++)
        {
            var index = firstIndex + i;
            var user = _users.Length > 0 ? _users[index % _users.Length] : new BenchUser(null, index % 3);
            var slow = slowEvery > 0 && index % slowEvery == slowEvery - 1;
            var client = new WsClient(this, index, user.Tier, user.Token, slow);
            if (_capacity > 0) client.Seen = new ulong[(_capacity + 63) / 64];
            added.Add(client);
        }
        lock (_clients) _clients.AddRange(added);
        var failures = await ConnectAllAsync(added, concurrency, timeout, resume: false);
        // Wait for every welcome (registration on the server) before the caller publishes.
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (added.Any(c => c.Open && !c.Welcomed) && Stopwatch.GetTimestamp() < deadline) await Task.Delay(20);
        var statuses = added.Where(c => !c.Open).GroupBy(c => c.LastStatus).ToDictionary(g => g.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), g => g.Count());
        return new ConnectReport(added.Count(c => c.Open && c.Welcomed), failures, Stopwatch.GetElapsedTime(started).TotalMilliseconds, statuses);
    }

    private async Task<int> ConnectAllAsync(List<WsClient> clients, int concurrency, TimeSpan timeout, bool resume)
    {
        using var cts = new CancellationTokenSource(timeout);
        var next = -1;
        var failures = 0;
        async Task Lane()
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= clients.Count) return;
                var client = clients[i];
                for (var attempt = 0; ; attempt++)
                {
                    if (cts.IsCancellationRequested) { Interlocked.Increment(ref failures); break; }
                    var afterSeq = resume && Kind == TargetKind.SignalStream ? Interlocked.Read(ref client.LastSeq) : -1;
                    if (await client.ConnectAsync(_server, _host, PathFor(client, afterSeq), cts.Token)) break;
                    if (attempt >= 20 || client.LastStatus is 400 or 401 or 403 or 404) { Interlocked.Increment(ref failures); break; }
                    try { await Task.Delay(Math.Min(1000, 50 << Math.Min(attempt, 4)), cts.Token); }
                    catch (OperationCanceledException) { }
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, concurrency)).Select(_ => Task.Run(Lane)));
        return failures;
    }

    /// <summary>Starts a window for signals k0..k0+capacity-1: clears counters and the histogram.</summary>
    public void BeginWindow(long k0, int capacity)
    {
        _k0 = k0;
        _capacity = capacity;
        _latency = NewHistogram();
        Interlocked.Exchange(ref _valid, 0);
        lock (_clients)
        {
            foreach (var c in _clients)
            {
                c.Seen = new ulong[(capacity + 63) / 64];
                c.Valid = c.Duplicates = c.Forbidden = c.OutOfOrder = c.Stray = 0;
            }
        }
    }

    /// <summary>How many deliveries the window should bring, given the signals actually published.</summary>
    public long Expected(long kEnd, HashSet<long> failed)
    {
        var perTier = new long[3];
        for (var k = _k0; k < kEnd; k++) if (!failed.Contains(k)) perTier[TierOf(k)]++;
        long total = 0;
        lock (_clients)
            foreach (var c in _clients)
                if (!c.Slow) total += perTier[0] + (c.Tier >= 1 ? perTier[1] : 0) + (c.Tier >= 2 ? perTier[2] : 0);
        return total;
    }

    /// <summary>Waits until the window's deliveries are all in (or the timeout), then counts what is wrong.</summary>
    public async Task<WindowReport> EndWindowAsync(long kEnd, HashSet<long> failed, TimeSpan drain)
    {
        var expected = Expected(kEnd, failed);
        var deadline = Stopwatch.GetTimestamp() + (long)(drain.TotalSeconds * Stopwatch.Frequency);
        while (ValidDeliveries < expected && Stopwatch.GetTimestamp() < deadline) await Task.Delay(20);
        await Task.Delay(50); // let a duplicate or a stray land if one is coming
        long missing = 0, dup = 0, forbidden = 0, ooo = 0, stray = 0, valid = 0, closed = 0, slow = 0;
        lock (_clients)
        {
            foreach (var c in _clients)
            {
                if (c.Slow) { slow++; continue; }
                if (!c.Open) closed++;
                dup += c.Duplicates; forbidden += c.Forbidden; ooo += c.OutOfOrder; stray += c.Stray; valid += c.Valid;
                var seen = c.Seen!;
                for (var k = _k0; k < kEnd; k++)
                {
                    if (TierOf(k) > c.Tier || failed.Contains(k)) continue;
                    var bit = k - _k0;
                    if ((seen[bit >> 6] & (1UL << (int)(bit & 63))) == 0) missing++;
                }
            }
        }
        // Late frames may still be recording: take the histogram out of use before reading it.
        var latency = Interlocked.Exchange(ref _latency, NewHistogram());
        await Task.Delay(20);
        return new WindowReport(expected, valid, missing, dup, forbidden, ooo, stray, closed, slow, Buckets(latency));
    }

    public static List<long[]> Buckets(HistogramBase histogram)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var list = new List<long[]>();
                foreach (var v in histogram.RecordedValues()) list.Add([v.ValueIteratedTo, v.CountAddedInThisIterationStep]);
                return list;
            }
            catch (InvalidOperationException) when (attempt < 10)
            {
                Thread.Sleep(10); // a straggler recorded meanwhile
            }
        }
    }

    /// <summary>Every client drops its connection at once, then all reconnect (resuming after their last seq where the target can).</summary>
    public async Task<StormReport> StormAsync(int concurrency, TimeSpan timeout)
    {
        WsClient[] clients;
        lock (_clients) clients = [.. _clients.Where(c => !c.Slow)];
        var started = Stopwatch.GetTimestamp();
        foreach (var c in clients) c.Abort();
        Interlocked.Exchange(ref _welcomed, _welcomed - clients.Length);
        var failures = await ConnectAllAsync([.. clients], concurrency, timeout, resume: true);
        var reconnectedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds; // every upgrade answered 101
        var deadline = started + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        bool Done(WsClient c) => Kind == TargetKind.SignalStream ? Interlocked.Read(ref c.ResumedAt) != 0 : c.Welcomed;
        while (clients.Any(c => !Done(c)) && Stopwatch.GetTimestamp() < deadline) await Task.Delay(20);
        var done = clients.Where(Done).ToArray();
        var times = done.Select(c => Stopwatch.GetElapsedTime(started, Kind == TargetKind.SignalStream ? c.ResumedAt : started).TotalMilliseconds).OrderBy(x => x).ToArray();
        return new StormReport(clients.Length, done.Length, failures,
            times.Length > 0 ? times[times.Length / 2] : 0,
            times.Length > 0 ? times[^1] : 0,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            reconnectedMs);
    }

    public void PingSignalR()
    {
        if (Kind != TargetKind.SignalR) return;
        WsClient[] clients;
        lock (_clients) clients = [.. _clients];
        foreach (var c in clients) c.SendSignalRPing();
    }

    public void CloseAll()
    {
        lock (_clients) foreach (var c in _clients) c.Abort();
    }

    internal void OnWelcome(WsClient client) => Interlocked.Increment(ref _welcomed);

    internal void OnClosed(WsClient client) { }

    /// <summary>One text message from the server (for SignalR, one invocation record).</summary>
    internal void OnFrame(WsClient client, ReadOnlySpan<byte> message)
    {
        Interlocked.Increment(ref _frames);
        var at = message.IndexOf("\"external_id\":\"bench-"u8);
        if (at < 0)
        {
            OnControl(client, message);
            return;
        }
        var now = Stopwatch.GetTimestamp();
        var rest = message[(at + 21)..];
        var k = ParseLong(rest, out var used);
        var stamp = ParseLong(rest[(used + 1)..], out _);
        var seqAt = message.IndexOf("\"seq\":"u8);
        var seq = seqAt >= 0 ? ParseLong(message[(seqAt + 6)..], out _) : 0;

        var latencyUs = (now - stamp) * 1_000_000 / Stopwatch.Frequency;
        var last = client.WindowLastSeq;
        if (seq <= last) client.OutOfOrder++;
        else client.WindowLastSeq = seq;
        if (seq > Interlocked.Read(ref client.LastSeq)) Interlocked.Exchange(ref client.LastSeq, seq);

        var bit = k - _k0;
        var seen = client.Seen;
        if (seen is null || bit < 0 || bit >= _capacity) { client.Stray++; return; }
        ref var word = ref seen[bit >> 6];
        var mask = 1UL << (int)(bit & 63);
        if ((word & mask) != 0) { client.Duplicates++; return; }
        word |= mask;
        if (TierOf(k) > client.Tier) { client.Forbidden++; return; }
        client.Valid++;
        Interlocked.Increment(ref _valid);
        if (latencyUs > 0) _latency.RecordValue(Math.Min(latencyUs, 600_000_000));
    }

    private void OnControl(WsClient client, ReadOnlySpan<byte> message)
    {
        if (message.IndexOf("\"welcome\""u8) >= 0)
        {
            var at = message.IndexOf("\"last_seq\":"u8);
            if (at >= 0 && Interlocked.Read(ref client.LastSeq) == 0)
            {
                var lastSeq = ParseLong(message[(at + 11)..], out _);
                Interlocked.Exchange(ref client.LastSeq, lastSeq);
                client.WindowLastSeq = Math.Max(client.WindowLastSeq, lastSeq);
            }
            if (!client.Welcomed)
            {
                client.Welcomed = true;
                OnWelcome(client);
            }
        }
        else if (message.IndexOf("\"type\":\"replay_complete\""u8) >= 0)
        {
            Interlocked.Exchange(ref client.ResumedAt, Stopwatch.GetTimestamp());
        }
    }

    private static long ParseLong(ReadOnlySpan<byte> text, out int used)
    {
        long value = 0;
        used = 0;
        while (used < text.Length && text[used] is >= (byte)'0' and <= (byte)'9')
        {
            value = value * 10 + (text[used] - '0');
            used++;
        }
        return value;
    }
}

public sealed record ConnectReport(int Connected, int Failed, double Milliseconds, Dictionary<string, int> Refusals);

public sealed record WindowReport(long Expected, long Valid, long Missing, long Duplicates, long Forbidden, long OutOfOrder, long Stray, long ClosedClients, long SlowClients, List<long[]> Buckets);

public sealed record StormReport(int Clients, int Resumed, int Failed, double MedianMs, double MaxMs, double ElapsedMs, double ReconnectedMs);
