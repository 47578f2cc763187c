namespace VideoEdge.Bench.Harness;

/// <summary>Where things are: the repository, and the bench's git-ignored work folder inside it.</summary>
internal sealed class BenchPaths
{
    public BenchPaths(string? workOverride)
    {
        Repo = FindRepo();
        Work = workOverride ?? Path.Combine(Repo, ".bench");
        Directory.CreateDirectory(Work);
    }

    public string Repo { get; }
    public string Work { get; }
    public string FakeCamera => Path.Combine(Repo, ".fakecam-build", "x86_64", "libfakecam.so");
    public string VideoEdgeDir => Path.Combine(Work, "videoedge");
    public string VideoEdgeBinary => Path.Combine(VideoEdgeDir, "video-edge");
    public string Frames(string resolution) => Path.Combine(Work, "frames", resolution);
    public string Logs => Directory.CreateDirectory(Path.Combine(Work, "logs")).FullName;

    /// <summary>This program again, for the floor server and the viewer process.</summary>
    public static (string File, string[] Prefix) Self()
    {
        var process = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? (process, [typeof(BenchPaths).Assembly.Location])
            : (process, []);
    }

    private static string FindRepo()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "VideoEdge.slnx")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new InvalidOperationException("run the bench from inside the VideoEdge repository");
    }
}
