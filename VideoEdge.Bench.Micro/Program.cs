using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// In-process (no generated project to build per benchmark), short runs: the whole suite takes a
// few minutes. With no arguments every benchmark runs; BenchmarkDotNet's --filter picks some.
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithArtifactsPath(Path.Combine(Environment.CurrentDirectory, ".bench", "micro"));
BenchmarkSwitcher.FromAssembly(typeof(VideoEdge.Bench.Micro.MjpegFramingBenchmarks).Assembly)
    .Run(args.Length == 0 ? ["--filter", "*"] : args, config);
