using System.Collections.Concurrent;

namespace VideoEdge.Tests.Deployment;

/// <summary>
/// What `./publish.sh RID` produced, built once per test run and shared by every test that needs
/// it. Each test run publishes into a temporary directory of its own, so parallel runs (and the
/// developer's own dist/) never collide; it is deleted when the test process exits.
/// </summary>
public sealed class PublishedBuild
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), $"videoedge-deploy-{Guid.NewGuid():N}");
    private static readonly ConcurrentDictionary<string, Lazy<Task<PublishedBuild>>> Builds = new();

    static PublishedBuild()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
    }

    private PublishedBuild(string rid, string folder, string log)
    {
        Rid = rid;
        Folder = folder;
        Log = log;
    }

    public string Rid { get; }

    /// <summary>dist/&lt;rid&gt;/: the binary and everything --install needs.</summary>
    public string Folder { get; }

    public string Binary => Path.Combine(Folder, "video-edge");
    public string OpenCvLibrary => Path.Combine(Folder, "libOpenCvSharpExtern.so");

    /// <summary>Everything publish.sh printed.</summary>
    public string Log { get; }

    /// <summary>The repository checkout these tests run from (where publish.sh is).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string PublishScript => Path.Combine(RepositoryRoot, "publish.sh");

    public static Task<PublishedBuild> GetAsync(string rid) =>
        Builds.GetOrAdd(rid, r => new Lazy<Task<PublishedBuild>>(() => PublishAsync(r))).Value;

    private static async Task<PublishedBuild> PublishAsync(string rid)
    {
        var dist = Path.Combine(Root, "dist");
        var result = await Command.RunAsync("bash", [PublishScript, rid], new Dictionary<string, string>
        {
            ["DIST"] = dist,
            ["BUILD_DIR"] = Path.Combine(Root, "build"),
        }, TimeSpan.FromMinutes(10));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"publish.sh {rid} failed:\n{result}");
        }
        return new PublishedBuild(rid, Path.Combine(dist, rid), result.Output);
    }

    /// <summary>e_machine of an ELF file: 0x3E x86-64, 0xB7 AArch64.</summary>
    public static int ElfMachine(string path)
    {
        Span<byte> header = stackalloc byte[20];
        using var file = File.OpenRead(path);
        file.ReadExactly(header);
        Assert.True(header[0] == 0x7F && header[1] == 'E' && header[2] == 'L' && header[3] == 'F', $"{path} is not an ELF file");
        return header[18] | header[19] << 8;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "publish.sh")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"publish.sh not found above {AppContext.BaseDirectory}");
    }
}
