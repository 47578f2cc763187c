using System.Runtime.InteropServices;
using VideoEdge.Tests.Fakes;

namespace VideoEdge.Tests.Deployment;

/// <summary>publish.sh names the exact apt packages when a build tool is missing, before it builds anything.</summary>
public sealed class PrerequisiteTests : IDisposable
{
    private static readonly bool OnX64 = RuntimeInformation.OSArchitecture == Architecture.X64;
    private readonly string _dir = FakeCamera.NewTempDirectory("videoedge-prereq");

    [Fact]
    public async Task A_native_build_without_clang_names_clang()
    {
        var output = await FailingPublishAsync(OnX64 ? "linux-x64" : "linux-arm64", name => name.StartsWith("clang", StringComparison.Ordinal));
        Assert.Contains("sudo apt-get install clang\n", output);
    }

    [Fact]
    public async Task A_cross_build_without_its_tools_names_every_package()
    {
        var (rid, triple, package) = OnX64 ? ("linux-arm64", "aarch64-linux-gnu", "aarch64-linux-gnu") : ("linux-x64", "x86_64-linux-gnu", "x86-64-linux-gnu");
        var output = await FailingPublishAsync(rid, name =>
            name.StartsWith("clang", StringComparison.Ordinal) || name.Contains("lld", StringComparison.Ordinal) || name.StartsWith(triple + "-", StringComparison.Ordinal));
        Assert.Contains($"sudo apt-get install clang lld gcc-{package} binutils-{package}\n", output);
    }

    private async Task<string> FailingPublishAsync(string rid, Func<string, bool> hidden)
    {
        var result = await Command.RunAsync("bash", [PublishedBuild.PublishScript, rid], new Dictionary<string, string>
        {
            ["PATH"] = PathWithout(hidden),
            ["DIST"] = Path.Combine(_dir, "dist"),
            ["BUILD_DIR"] = Path.Combine(_dir, "build"),
        });
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.False(Directory.Exists(Path.Combine(_dir, "build")), "it started building anyway:\n" + result);
        return result.Output;
    }

    /// <summary>A PATH of one folder linking every program of ours except the hidden ones.</summary>
    private string PathWithout(Func<string, bool> hidden)
    {
        var bin = Path.Combine(_dir, "bin-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(bin);
        var linked = new HashSet<string>();
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Where(Directory.Exists))
        {
            foreach (var program in Directory.EnumerateFiles(folder))
            {
                var name = Path.GetFileName(program);
                if (!hidden(name) && linked.Add(name))
                {
                    File.CreateSymbolicLink(Path.Combine(bin, name), program);
                }
            }
        }
        return bin;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
