using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Shoal.Integration.Tests;

/// <summary>
/// <c>shoal run</c> — the embedded default the README's run command starts — on free ports and a temporary data
/// directory: one node with every role, SQLite, four 1 GiB drives, volume <c>demo</c> exported over NBD, the gateway.
/// </summary>
public sealed class EmbeddedNode : IDisposable
{
    private readonly int _nbdPort = Ports.Free();
    private readonly int _httpPort = Ports.Free();
    private readonly int _akkaPort = Ports.Free();
    private readonly int _dataPort = Ports.Free();
    private ShoalProcess? _process;

    public EmbeddedNode()
    {
        Dir = Path.Combine(Path.GetTempPath(), "shoal-embedded-" + Guid.NewGuid().ToString("N")[..8]);
        Start();
    }

    public string Dir { get; }

    public string Api => $"http://127.0.0.1:{_httpPort}/api/v1";

    public string Base => $"http://127.0.0.1:{_httpPort}";

    public string DemoUri => $"nbd://127.0.0.1:{_nbdPort}/demo";

    public string AdminToken => File.ReadAllText(Path.Combine(Dir, "admin.token")).Trim();

    public string ReadToken => File.ReadAllText(Path.Combine(Dir, "read.token")).Trim();

    public void Start()
    {
        _process = ShoalProcess.StartWith("embedded",
            ["run", "--dir", Dir, "--nbd", $"127.0.0.1:{_nbdPort}", "--http", $"127.0.0.1:{_httpPort}", "--akka", $"127.0.0.1:{_akkaPort}",
             "--data-listen", $"127.0.0.1:{_dataPort}"],
            "shoal ready", TimeSpan.FromMinutes(2));
    }

    /// <summary>
    /// SIGTERM (systemd's stop) or SIGINT (an operator's Ctrl-C): the node must stop on its own, in time, with exit
    /// code 0.
    /// </summary>
    public void Stop(string signal = "TERM")
    {
        _process!.Signal(signal);
        Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(30)), $"the node did not stop within 30 s of SIG{signal}");
        Assert.True(_process.ExitCode == 0, $"the node stopped on SIG{signal} with exit code {_process.ExitCode}");
        _process.Dispose();
        _process = null;
    }

    /// <summary>kill -9: no orderly stop, nothing flushed or answered.</summary>
    public void Kill()
    {
        _process!.Kill9();
        Assert.True(_process.Exited, "the node did not die within 10 s of SIGKILL");
        _process.Dispose();
        _process = null;
    }

    public HttpClient Http(string? token)
    {
        var http = new HttpClient { BaseAddress = new Uri(Api + "/"), Timeout = TimeSpan.FromSeconds(60) };
        if (token != null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return http;
    }

    /// <summary>Runs <c>shoal ARGS --api ... --token-file ...</c> (the CLI palettes) to the end.</summary>
    public (int ExitCode, string Output) Cli(params string[] args) =>
        ShoalProcess.RunToEnd([.. args, "--api", Api, "--token-file", Path.Combine(Dir, "admin.token")]);

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public string Logs() => _process == null ? "(stopped)" : string.Join("\n", _process.Lines);

    public void Dispose()
    {
        _process?.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // a file still held open by a process being reaped; the temp directory is cleaned by the OS
        }
    }

    public static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
