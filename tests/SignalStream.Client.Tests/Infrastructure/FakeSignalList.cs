using System.Collections.Concurrent;
using System.Threading.Channels;
using SignalStream.Client.Rest;
using SignalStream.Protocol;

namespace SignalStream.Client.Tests.Infrastructure;

/// <summary>The REST signal list in memory, served the way the server pages it; can refuse or fail on demand.</summary>
internal sealed class FakeSignalList : ISignalList
{
    /// <summary>The stored (visible) signals.</summary>
    public ConcurrentDictionary<long, Signal> Store { get; } = new();

    private readonly Channel<(long? AfterSeq, int Limit)> _requests = Channel.CreateUnbounded<(long? AfterSeq, int Limit)>();

    /// <summary>Every request as (after_seq, limit), in order.</summary>
    public ConcurrentQueue<(long? AfterSeq, int Limit)> Requests { get; } = new();

    /// <summary>The next request (from the start), waiting for it if need be.</summary>
    public async Task<(long? AfterSeq, int Limit)> NextRequestAsync() => await _requests.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Default);

    /// <summary>The history's identity, as the server's list carries it.</summary>
    public string? Epoch { get; set; } = "epoch-1";

    /// <summary>Thrown by the next requests while set.</summary>
    public Exception? Failure { get; set; }

    public void Add(params long[] seqs)
    {
        foreach (var seq in seqs)
            Store[seq] = FakeSignalServer.MakeSignal(seq);
    }

    public Task<SignalPage> GetSignalsAsync(long? afterSeq, int limit, CancellationToken ct)
    {
        Requests.Enqueue((afterSeq, limit));
        _requests.Writer.TryWrite((afterSeq, limit));
        if (Failure is { } failure)
            return Task.FromException<SignalPage>(failure);
        var all = Store.Values.OrderBy(s => s.Seq).ToList();
        var lastSeq = all.Count == 0 ? 0 : all[^1].Seq;
        var page = afterSeq is { } after
            ? all.Where(s => s.Seq > after).Take(limit).ToArray()
            : all.AsEnumerable().Reverse().Take(limit).ToArray();
        return Task.FromResult(new SignalPage(page, lastSeq) { Epoch = Epoch });
    }
}
