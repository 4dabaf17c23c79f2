namespace SignalStream.Server.Tests.Infrastructure;

/// <summary>
/// Debian's nginx in the foreground (<c>nginx -g 'daemon off;' -c conf -p dir</c>) with its own pid,
/// log and temp paths, proxying with the shipped <c>deploy/nginx-locations.conf</c>.
/// </summary>
public sealed class NginxServer(string directory, int[] upstreamPorts) : IDisposable
{
    private ChildProcess? _process;

    public int Port { get; } = ChildProcess.FreePort();
    public string Tail => _process?.Tail ?? "--- nginx: never started ---";

    /// <summary>The shipped proxy settings, copied into the test output by the test project.</summary>
    public static string LocationsFile => Path.Combine(AppContext.BaseDirectory, "Infrastructure", "nginx-locations.conf");

    public async Task StartAsync()
    {
        Directory.CreateDirectory(directory);
        var conf = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(conf, Config());
        _process = ChildProcess.Start("nginx", "nginx",
            ["-e", Path.Combine(directory, "error.log"), "-g", "daemon off;", "-c", conf, "-p", directory], Path.Combine(directory, "stdout.log"));
        await Eventually.TrueAsync(async () =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"nginx exited: {await File.ReadAllTextAsync(Path.Combine(directory, "error.log"))}");
            return await ChildProcess.IsListeningAsync(Port);
        }, "nginx to listen", TimeSpan.FromSeconds(30));
    }

    private string Config()
    {
        var servers = string.Join(Environment.NewLine, upstreamPorts.Select(p => $"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;"));
        return $$"""
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log info;
            events { worker_connections 4096; }
            http {
                log_format routed '$remote_addr "$request_method $uri" $status -> $upstream_addr ($upstream_status) $request_time s';
                access_log {{directory}}/access.log routed;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;

                upstream signalstream {
                    least_conn;
            {{servers}}
                    keepalive 16;
                }

                upstream signalstream_sockets {
                    least_conn;
            {{servers}}
                }

                server {
                    listen 127.0.0.1:{{Port}};
                    # Tests only: which node served the request (the shipped config does not reveal it).
                    add_header {{ScaleOutCluster.UpstreamHeader}} $upstream_addr always;
                    include {{LocationsFile}};
                }
            }
            """;
    }

    public void Dispose()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            _process.SignalAsync("TERM").GetAwaiter().GetResult();
            _process.WaitForExitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        }
        _process.Dispose();
    }
}
