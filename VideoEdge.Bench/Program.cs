using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using VideoEdge.Bench;
using VideoEdge.Bench.Floor;
using VideoEdge.Bench.Harness;
using VideoEdge.Bench.Load;

switch (args.FirstOrDefault())
{
    case "floor":
        return FloorServer.Run(args[1..]);
    case "clients":
        return LoadClient.Run();
    case "report":
        return Reporting.Rewrite(args[1..]);
    case "slowlink":
        return await SlowLinkBench.RunAsync(args[1..]);
    case "--help" or "-h":
        Console.Out.Write(BenchOptions.Usage);
        return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    Console.Error.WriteLine("videoedge-bench: " + ex.Message);
    Console.Error.Write(BenchOptions.Usage);
    return 2;
}

var paths = new BenchPaths(options.Work);
Setup.Prepare(paths, options);
var started = DateTimeOffset.UtcNow;
var clock = Stopwatch.StartNew();
using var viewers = new ViewerProcess();
var runner = new Runner(paths, options, viewers);
await runner.RunAllAsync();

var report = new BenchReport
{
    Started = started,
    DurationSeconds = clock.Elapsed.TotalSeconds,
    Command = "dotnet run -c Release --project VideoEdge.Bench --" + (args.Length > 0 ? " " + string.Join(' ', args) : ""),
    Machine = Machine.Describe(),
    Measurements = runner.Measurements,
    Startups = runner.Startups,
    Wakes = runner.Wakes,
};
var runDir = Directory.CreateDirectory(Path.Combine(paths.Work, "runs", started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))).FullName;
File.WriteAllText(Path.Combine(runDir, "results.json"), JsonSerializer.Serialize(report, BenchJson.Default.BenchReport));
var markdown = Reporting.Write(report, runDir);
Setup.Log($"done in {clock.Elapsed.TotalMinutes:F1} min: {runDir}/report.md");
if (options.Publish)
{
    Publisher.Publish(paths, runDir, markdown, Reporting.PlotName);
}
Console.Out.WriteLine(markdown);
return 0;
