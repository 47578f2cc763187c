using System.Diagnostics;
using System.Runtime.InteropServices;

namespace VideoEdge.Bench.Harness;

internal static class Machine
{
    public static Dictionary<string, string> Describe() => new()
    {
        ["CPU"] = $"{CpuModel()}, {Environment.ProcessorCount} logical CPUs",
        ["memory"] = $"{MemTotalGiB():F1} GiB",
        ["kernel"] = RuntimeInformation.OSDescription,
        [".NET"] = RuntimeInformation.FrameworkDescription,
        ["µStreamer"] = Output("ustreamer", "--version"),
        ["load average at the end"] = File.ReadAllText("/proc/loadavg").Trim(),
    };

    private static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";

    private static double MemTotalGiB()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0 / 1024.0;
    }

    private static string Output(string file, string arg)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, arg) { RedirectStandardOutput = true, UseShellExecute = false })!;
            var text = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return text;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "not installed";
        }
    }
}
