using System.Globalization;

namespace VideoEdge.Bench.Harness;

/// <summary>The bench's command line.</summary>
public sealed class BenchOptions
{
    public bool Quick { get; private set; }
    public int? Reps { get; private set; }
    /// <summary>The sweep's viewer counts, when not the default ones (a focused before/after run).</summary>
    public int[]? Viewers { get; private set; }
    /// <summary>"camera" (the fake camera, MJPEG passed through) or "test" (VideoEdge's own test pattern).</summary>
    public string VideoEdgeSource { get; private set; } = "camera";
    public string? VideoEdgeBinary { get; private set; }
    /// <summary>An older video-edge binary, run beside the current one as the "before" servers.</summary>
    public string? BaselineBinary { get; private set; }
    public HashSet<string> Groups { get; private set; } = [];
    public HashSet<ServerKind> Servers { get; private set; } = [];
    public bool Publish { get; private set; }
    public int ViewerThreads { get; private set; } = 1;
    public int SlowReceiveBuffer { get; private set; } = 16 * 1024;
    public string? Work { get; private set; }
    /// <summary>Extra environment for VideoEdge processes (experiments such as DOTNET_gcServer=0).</summary>
    public Dictionary<string, string> VideoEdgeEnvironment { get; } = [];
    public IReadOnlyList<string> AllResolutions => ["640x480", "1280x720", "1920x1080"];

    public const string Usage = """
        videoedge-bench [options]                 run the comparison (default scenario set, < 10 min)
          --quick                                 a smoke run (about a minute)
          --reps N                                repetitions per scenario (default 3, quick 1)
          --viewers N[,N…]                        the sweep's viewer counts (default 1,10,50,200; quick 1,50)
          --only G[,G…]                           groups: startup, sweep, resolutions, slow, soak, yuyv (the default set),
                                                  ingest (frames from a producer: WebSocket ingest and NATS vs the local camera),
                                                  wake (--on-demand: first request → first frame of a switched-off camera)
          --servers S[,S…]                        floor, ustreamer, videoedge, videoedge-ws, videoedge-ingest, videoedge-bus,
                                                  videoedge-before, videoedge-ws-before (need --baseline-binary)
          --videoedge-source camera|test          VideoEdge on the fake camera (default) or its test pattern
          --videoedge-binary PATH                 use this video-edge binary instead of publishing one
          --baseline-binary PATH                  also run this (older) video-edge binary as "VideoEdge MJPEG (before)" and
                                                  "VideoEdge WS (before)" in sweep, resolutions, slow and soak: before/after in one run
          --viewer-threads N                      threads of the viewer process (default 1)
          --slow-rcvbuf BYTES                     receive buffer of slow viewers (default 16384; 0 = kernel's)
          --videoedge-env KEY=VALUE               extra environment for VideoEdge (repeatable)
          --work DIR                              work folder (default <repo>/.bench)
          --publish                               write the results into BENCHMARKS.md and bench-results/
        videoedge-bench slowlink [--seconds N] [OPTS] issue 14: one viewer behind tc tbf at 160 kbit/s, 1 and 8 Mbit/s (root)
        videoedge-bench report RUN_DIR [--publish]  rewrite a finished run's report and plot
        videoedge-bench floor …                   the floor server (started by the bench)
        videoedge-bench clients                   the viewer process (started by the bench)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--quick": o.Quick = true; break;
                case "--reps": o.Reps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--viewers": o.Viewers = [.. Next().Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))]; break;
                case "--only": o.Groups = [.. Next().Split(',')]; break;
                case "--servers":
                    o.Servers = [.. Next().Split(',').Select(s => s switch
                    {
                        "floor" => ServerKind.Floor,
                        "ustreamer" => ServerKind.UStreamer,
                        "videoedge" => ServerKind.VideoEdge,
                        "videoedge-ws" => ServerKind.VideoEdgeWs,
                        "videoedge-ingest" => ServerKind.VideoEdgeIngest,
                        "videoedge-bus" => ServerKind.VideoEdgeBus,
                        "videoedge-before" => ServerKind.VideoEdgeBefore,
                        "videoedge-ws-before" => ServerKind.VideoEdgeWsBefore,
                        _ => throw new ArgumentException($"unknown server '{s}'"),
                    })];
                    break;
                case "--videoedge-source": o.VideoEdgeSource = Next(); break;
                case "--videoedge-binary": o.VideoEdgeBinary = Path.GetFullPath(Next()); break;
                case "--baseline-binary": o.BaselineBinary = Path.GetFullPath(Next()); break;
                case "--viewer-threads": o.ViewerThreads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--slow-rcvbuf": o.SlowReceiveBuffer = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--work": o.Work = Path.GetFullPath(Next()); break;
                case "--videoedge-env":
                    var pair = Next().Split('=', 2);
                    o.VideoEdgeEnvironment[pair[0]] = pair.Length > 1 ? pair[1] : "";
                    break;
                case "--publish": o.Publish = true; break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        if (o.VideoEdgeSource is not ("camera" or "test"))
        {
            throw new ArgumentException("--videoedge-source is camera or test");
        }
        if (o.BaselineBinary is null && o.Servers.Any(IsBefore))
        {
            throw new ArgumentException("videoedge-before and videoedge-ws-before need --baseline-binary");
        }
        if (o.BaselineBinary is not null && !File.Exists(o.BaselineBinary))
        {
            throw new ArgumentException($"--baseline-binary: {o.BaselineBinary} does not exist");
        }
        return o;
    }

    /// <summary>Groups that run only when named with --only (they answer one issue's question each, and the default set stays under 10 minutes).</summary>
    private static readonly string[] s_optIn = ["ingest", "wake"];

    public bool Wants(string group) => Groups.Count == 0 ? !s_optIn.Contains(group) : Groups.Contains(group);
    /// <summary>The "before" servers run only with --baseline-binary (and then by default, like the others).</summary>
    public bool Wants(ServerKind server) => (BaselineBinary is not null || !IsBefore(server)) && (Servers.Count == 0 || Servers.Contains(server));

    public static bool IsBefore(ServerKind server) => server is ServerKind.VideoEdgeBefore or ServerKind.VideoEdgeWsBefore;
}
