using System.Diagnostics;
using System.Text.Json;
using VideoEdge.Bench.Load;

namespace VideoEdge.Bench.Harness;

/// <summary>The long-lived viewer process (`videoedge-bench clients`), driven one run at a time.</summary>
internal sealed class ViewerProcess : IDisposable
{
    private readonly Process _process;

    public ViewerProcess()
    {
        var (file, prefix) = BenchPaths.Self();
        var info = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        foreach (var a in prefix)
        {
            info.ArgumentList.Add(a);
        }
        info.ArgumentList.Add("clients");
        _process = Process.Start(info)!;
    }

    public int Pid => _process.Id;

    /// <summary>Runs <paramref name="spec"/>; <paramref name="onStart"/> and <paramref name="onEnd"/> run at the window's edges.</summary>
    public LoadResult Run(LoadSpec spec, Action onStart, Action onEnd)
    {
        _process.StandardInput.WriteLine(JsonSerializer.Serialize(spec, BenchJson.Default.LoadSpec));
        _process.StandardInput.Flush();
        while (_process.StandardOutput.ReadLine() is { } line)
        {
            if (line == "START")
            {
                onStart();
            }
            else if (line == "END")
            {
                onEnd();
            }
            else if (line.StartsWith("RESULT ", StringComparison.Ordinal))
            {
                return JsonSerializer.Deserialize(line[7..], BenchJson.Default.LoadResult)!;
            }
        }
        throw new InvalidOperationException("the viewer process ended unexpectedly");
    }

    public void Dispose()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(5000))
        {
            _process.Kill();
        }
        _process.Dispose();
    }
}
