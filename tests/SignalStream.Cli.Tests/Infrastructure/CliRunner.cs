using System.Diagnostics;
using System.Reflection;
using System.Text;
using SignalStream.Client.Tests.Infrastructure;

namespace SignalStream.Cli.Tests.Infrastructure;

public sealed record CliResult(int ExitCode, string Out, string Err)
{
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";

    /// <summary>Nothing a .NET stack trace looks like, anywhere in the output.</summary>
    public void AssertNoStackTrace()
    {
        Assert.DoesNotContain("   at ", Out + Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", Out + Err, StringComparison.Ordinal);
    }
}

/// <summary>A text writer that tests can await: "wait until this appeared".</summary>
public sealed class WatchedWriter : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly List<(Func<string, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value) => Append(value.ToString());

    public override void Write(string? value) => Append(value ?? "");

    public override void WriteLine(string? value) => Append((value ?? "") + "\n");

    public string Text
    {
        get { lock (_text) return _text.ToString(); }
    }

    private void Append(string value)
    {
        List<TaskCompletionSource> ready = [];
        lock (_text)
        {
            _text.Append(value);
            var text = _text.ToString();
            foreach (var waiter in _waiters.ToList())
            {
                if (waiter.Condition(text))
                {
                    ready.Add(waiter.Done);
                    _waiters.Remove(waiter);
                }
            }
        }
        foreach (var done in ready)
            done.TrySetResult();
    }

    public async Task WaitForAsync(Func<string, bool> condition, string what, TimeSpan? timeout = null)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_text)
        {
            if (condition(_text.ToString()))
                return;
            _waiters.Add((condition, done));
        }
        try
        {
            await done.Task.WaitAsync(timeout ?? TestTimeouts.Default);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out waiting for {what}; so far:\n{Text}");
        }
    }
}

/// <summary>Runs the real <c>signalstream</c> command: in-process through its entry point, or as the built dll.</summary>
public static class CliRunner
{
    public static async Task<CliResult> RunAsync(IReadOnlyDictionary<string, string>? env, string? stdin, params string[] args)
    {
        var output = new WatchedWriter();
        var error = new WatchedWriter();
        var code = await RunAsync(env, stdin, output, error, CancellationToken.None, args);
        return new CliResult(code, output.Text, error.Text);
    }

    public static Task<int> RunAsync(IReadOnlyDictionary<string, string>? env, string? stdin, TextWriter output, TextWriter error, CancellationToken ct, params string[] args)
    {
        var ctx = new CliContext
        {
            Out = output,
            Err = error,
            In = new StringReader(stdin ?? ""),
            Environment = name => env is not null && env.TryGetValue(name, out var value) ? value : null,
        };
        return CliApp.RunAsync(args, ctx, ct).WaitAsync(TimeSpan.FromSeconds(120));
    }

    public static string CliDll => Path.GetFullPath(typeof(CliRunner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "SignalStreamCliDll").Value!);

    /// <summary>The built tool as its own process: <c>dotnet signalstream.dll args</c>, with only the given SIGNALSTREAM_* variables.</summary>
    public static async Task<CliResult> RunProcessAsync(IReadOnlyDictionary<string, string>? env, string? stdin, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CliDll);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("SIGNALSTREAM_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(key);
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
            info.Environment[key] = value;

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
            await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(cts.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
