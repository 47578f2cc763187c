namespace VideoEdge.Tests.Deployment;

/// <summary>What `./publish.sh RID` left in dist/&lt;rid&gt;/: the binary and everything --install needs.</summary>
public sealed record PublishedBuild(string Rid, string Folder, string Log)
{
    public string Binary => Path.Combine(Folder, "video-edge");
    public string OpenCvLibrary => Path.Combine(Folder, "libOpenCvSharpExtern.so");

    /// <summary>The repository checkout these tests run from (where publish.sh is).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string PublishScript => Path.Combine(RepositoryRoot, "publish.sh");

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
