using System.Text.Json;

namespace VideoEdge.Bench.Harness;

/// <summary>Turns a run's results into report.md and the plot, right after the run or later from results.json.</summary>
internal static class Reporting
{
    public const string PlotName = "cpu-per-1000-frames.png";

    public static string Write(BenchReport report, string runDir)
    {
        Plot.Write([.. report.Measurements.Where(m => m.Group == "sweep")], Path.Combine(runDir, Path.ChangeExtension(PlotName, ".svg")), Path.Combine(runDir, PlotName));
        var markdown = Report.Markdown(report, PlotName);
        File.WriteAllText(Path.Combine(runDir, "report.md"), markdown);
        return markdown;
    }

    /// <summary>`report RUN_DIR [--publish]`: rewrites a finished run's report and plot (after changing how they look).</summary>
    public static int Rewrite(string[] args)
    {
        if (args.Length == 0 || !File.Exists(Path.Combine(args[0], "results.json")))
        {
            Console.Error.WriteLine("videoedge-bench report RUN_DIR [--publish]: RUN_DIR is a folder under .bench/runs/ with a results.json");
            return 2;
        }
        var runDir = Path.GetFullPath(args[0]);
        var report = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(runDir, "results.json")), BenchJson.Default.BenchReport)!;
        var markdown = Write(report, runDir);
        if (args.Contains("--publish"))
        {
            Publisher.Publish(new BenchPaths(null), runDir, markdown, PlotName);
        }
        Console.Out.WriteLine(markdown);
        return 0;
    }
}
