using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SignalStream.Bench;

/// <summary>
/// <c>worker</c> mode: a process that holds sockets for the coordinator (one process holds at most
/// about 19 500 descriptors here). Commands arrive as JSON lines on stdin, answers and progress
/// events leave as JSON lines on stdout.
/// </summary>
public static class WorkerMode
{
    public static async Task<int> RunAsync(Args args)
    {
        var kind = Enum.Parse<TargetKind>(args.Get("kind", "SignalStream"));
        var port = args.GetInt("port", 0);
        var usersFile = args.Get("users", "");
        var users = usersFile.Length > 0 ? JsonSerializer.Deserialize<BenchUser[]>(await File.ReadAllTextAsync(usersFile)) ?? [] : [];
        var swarm = new Swarm(kind, port, users) { OfficialSignalRClient = args.Get("signalr-client", "raw") == "official" && kind == TargetKind.SignalR };
        var output = Console.Out;
        var writeLock = new Lock();
        void Write(JsonNode node)
        {
            var line = node.ToJsonString();
            lock (writeLock) { output.WriteLine(line); output.Flush(); }
        }

        using var stop = new CancellationTokenSource();
        var progress = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
            var sincePing = Stopwatch.StartNew();
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                Write(new JsonObject { ["ev"] = "progress", ["welcomed"] = swarm.Welcomed, ["valid"] = swarm.ValidDeliveries, ["frames"] = swarm.Frames });
                if (sincePing.Elapsed > TimeSpan.FromSeconds(10)) { swarm.PingSignalR(); sincePing.Restart(); }
            }
        });

        string? line;
        while ((line = await Console.In.ReadLineAsync()) is not null)
        {
            var command = JsonNode.Parse(line)!.AsObject();
            object reply;
            switch ((string?)command["cmd"])
            {
                case "connect":
                    reply = await swarm.ConnectAsync((int)command["first"]!, (int)command["count"]!, (int)command["slowEvery"]!,
                        (int)command["concurrency"]!, TimeSpan.FromMilliseconds((int)command["timeoutMs"]!));
                    break;
                case "begin":
                    swarm.BeginWindow((long)command["k0"]!, (int)command["capacity"]!);
                    reply = new { ok = true };
                    break;
                case "end":
                    var failed = command["failed"]!.AsArray().Select(n => (long)n!).ToHashSet();
                    reply = await swarm.EndWindowAsync((long)command["kEnd"]!, failed, TimeSpan.FromMilliseconds((int)command["drainMs"]!));
                    break;
                case "storm":
                    reply = await swarm.StormAsync((int)command["concurrency"]!, TimeSpan.FromMilliseconds((int)command["timeoutMs"]!));
                    break;
                case "close":
                    swarm.CloseAll();
                    reply = new { ok = true };
                    break;
                default:
                    reply = new { error = "unknown command" };
                    break;
            }
            Write(new JsonObject { ["ev"] = "reply", ["body"] = JsonSerializer.SerializeToNode(reply) });
        }
        await stop.CancelAsync();
        try { await progress; } catch (OperationCanceledException) { }
        swarm.CloseAll();
        return 0;
    }
}

/// <summary>The coordinator's handle on one worker process.</summary>
public sealed class WorkerHandle : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task _reader;
    private TaskCompletionSource<JsonNode>? _pending;

    private WorkerHandle(Process process)
    {
        _process = process;
        _reader = Task.Run(ReadAsync);
    }

    public int Pid => _process.Id;
    public long Welcomed;
    public long Valid;
    public long Frames;

    /// <summary>raw (default) or official: how workers speak to the SignalR target.</summary>
    public static string SignalRClient { get; set; } = "raw";

    public static WorkerHandle Start(TargetKind kind, int port, string usersFile)
    {
        var self = Environment.ProcessPath!;
        var dll = typeof(WorkerHandle).Assembly.Location;
        var info = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        if (!self.EndsWith("SignalStream.Bench", StringComparison.Ordinal)) info.ArgumentList.Add(dll); // run through dotnet
        foreach (var a in new[] { "worker", "--kind", kind.ToString(), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--users", usersFile, "--signalr-client", SignalRClient })
            info.ArgumentList.Add(a);
        // No DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS: with receive continuations inline on the one epoll
        // thread, one signal in ten stalled ~0.9 s for every client once a few thousand were connected
        // (the ramp's cliff at 2 000-4 000 clients, the same for every target); without it the ceiling
        // ramped to 8 000 with p95 at most 305 ms.
        info.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(info) ?? throw new InvalidOperationException("worker did not start");
        return new WorkerHandle(process);
    }

    private async Task ReadAsync()
    {
        string? line;
        while ((line = await _process.StandardOutput.ReadLineAsync()) is not null)
        {
            JsonNode? node;
            try { node = JsonNode.Parse(line); }
            catch (JsonException) { continue; }
            if (node is null) continue;
            if ((string?)node["ev"] == "progress")
            {
                Interlocked.Exchange(ref Welcomed, (long)node["welcomed"]!);
                Interlocked.Exchange(ref Valid, (long)node["valid"]!);
                Interlocked.Exchange(ref Frames, (long)node["frames"]!);
            }
            else if ((string?)node["ev"] == "reply")
            {
                _pending?.TrySetResult(node["body"]!);
            }
        }
        _pending?.TrySetException(new InvalidOperationException("worker exited"));
    }

    public async Task<T> SendAsync<T>(JsonObject command)
    {
        var pending = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending = pending;
        await _process.StandardInput.WriteLineAsync(command.ToJsonString());
        await _process.StandardInput.FlushAsync();
        var body = await pending.Task;
        return body.Deserialize<T>()!;
    }

    public async ValueTask DisposeAsync()
    {
        try { _process.StandardInput.Close(); } catch (IOException) { }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        try { await _reader; } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
