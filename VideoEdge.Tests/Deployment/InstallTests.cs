using System.Runtime.Versioning;
using VideoEdge.Tests.Fakes;

namespace VideoEdge.Tests.Deployment;

/// <summary>publish.sh --install and --uninstall into a temporary root (DESTDIR), as on the board but without touching this machine.</summary>
[Collection(DeploymentCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class InstallTests(PublishedBuilds builds) : IDisposable
{
    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode RootOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _root = FakeCamera.NewTempDirectory("videoedge-destdir");

    private string InRoot(string path) => Path.Combine(_root, path.TrimStart('/'));

    [Fact]
    public async Task Install_puts_binary_unit_and_settings_in_place_keeps_edited_settings_and_uninstall_keeps_only_them()
    {
        var build = await builds.GetAsync("linux-x64");
        var packaging = Path.Combine(PublishedBuild.RepositoryRoot, "packaging");

        // On the board: the copied dist/linux-x64/ folder installs itself.
        var first = await RunAsync(Path.Combine(build.Folder, "publish.sh"), "--install");
        Assert.Contains("sudo systemctl enable --now video-edge", first.Output);
        Assert.Contains("curl -o snap.jpg http://localhost:8080/snapshot.jpg", first.Output);
        AssertFile("/opt/video-edge/video-edge", Executable, File.ReadAllBytes(build.Binary));
        AssertFile("/opt/video-edge/libOpenCvSharpExtern.so", Readable, File.ReadAllBytes(build.OpenCvLibrary));
        AssertFile("/etc/systemd/system/video-edge.service", Readable, File.ReadAllBytes(Path.Combine(PublishedBuild.RepositoryRoot, "edge.service")));
        AssertFile("/etc/default/video-edge", RootOnly, File.ReadAllBytes(Path.Combine(packaging, "video-edge.default")));
        AssertFile("/etc/video-edge/config.json", Readable, File.ReadAllBytes(Path.Combine(packaging, "config.json")));

        // The user's settings survive a reinstall, here from the source checkout.
        await File.AppendAllTextAsync(InRoot("/etc/default/video-edge"), "VIDEOEDGE_LISTEN=0.0.0.0:8080\n");
        var edited = await File.ReadAllBytesAsync(InRoot("/etc/default/video-edge"));
        var second = await RunAsync(PublishedBuild.PublishScript, "--install", "linux-x64", ("DIST", Path.GetDirectoryName(build.Folder)!));
        Assert.Contains("kept your settings", second.Output);
        Assert.Equal(edited, await File.ReadAllBytesAsync(InRoot("/etc/default/video-edge")));
        Assert.Contains("kept your configuration", second.Output);

        // A build without OpenCV does not leave an old, mismatched OpenCV behind.
        var withoutOpenCv = Path.Combine(_root, "build-without-opencv");
        Directory.CreateDirectory(withoutOpenCv);
        foreach (var file in new[] { "video-edge", "edge.service", "video-edge.default", "config.json", "publish.sh" })
        {
            File.Copy(Path.Combine(build.Folder, file), Path.Combine(withoutOpenCv, file));
            File.SetUnixFileMode(Path.Combine(withoutOpenCv, file), File.GetUnixFileMode(Path.Combine(build.Folder, file)));
        }
        var third = await RunAsync(Path.Combine(withoutOpenCv, "publish.sh"), "--install");
        Assert.Contains("without OpenCV", third.Output);
        Assert.False(File.Exists(InRoot("/opt/video-edge/libOpenCvSharpExtern.so")));
        Directory.Delete(withoutOpenCv, recursive: true);

        var removed = await RunAsync(PublishedBuild.PublishScript, "--uninstall");
        Assert.Contains("kept your settings in", removed.Output);
        var left = Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Select(f => "/" + Path.GetRelativePath(_root, f)).ToList();
        Assert.Equal(new[] { "/etc/default/video-edge", "/etc/video-edge/config.json" }, left.Order().ToArray());
        Assert.False(Directory.Exists(InRoot("/opt/video-edge")));
    }

    private async Task<CommandResult> RunAsync(string script, params object[] args)
    {
        var environment = new Dictionary<string, string> { ["DESTDIR"] = _root };
        var arguments = new List<string> { script };
        foreach (var arg in args)
        {
            if (arg is (string key, string value))
            {
                environment[key] = value;
            }
            else
            {
                arguments.Add((string)arg);
            }
        }
        var result = await Command.RunAsync("bash", arguments, environment);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private void AssertFile(string path, UnixFileMode mode, byte[] content)
    {
        var file = InRoot(path);
        Assert.True(File.Exists(file), $"{path} was not installed");
        Assert.Equal(mode, File.GetUnixFileMode(file));
        Assert.True(content.AsSpan().SequenceEqual(File.ReadAllBytes(file)), $"{path} differs from what was built");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
