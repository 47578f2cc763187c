using System.Diagnostics;
using System.Text.RegularExpressions;

namespace VideoEdge.Tests.Deployment;

/// <summary>
/// Every program a test starts must be installed by test.sh, so that the suite passes on a fresh machine
/// and not only where someone installed it by hand (ustreamer was missed that way). The programs are
/// found in the tests' own source: the first string argument of every process start, and every absolute
/// /usr/bin path; each must be on this machine and come from a Debian package that test.sh installs, or
/// that one of those depends on directly, or an essential one (which every Debian has).
/// </summary>
public sealed partial class TestProgramsTests
{
    /// <summary>Programs not from Debian: the SDK the README assumes.</summary>
    private static readonly HashSet<string> Preinstalled = ["dotnet"];

    [Fact]
    public void Every_program_the_tests_start_is_installed_by_test_sh()
    {
        var installed = TestShPackages();
        var programs = ProgramsStartedByTests();
        Assert.Contains("ustreamer", programs.Keys);
        Assert.Contains("ffmpeg", programs.Keys);
        var problems = new List<string>();
        foreach (var (program, where) in programs.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (Preinstalled.Contains(program))
            {
                continue;
            }
            var path = program.StartsWith('/') ? program : Which(program);
            if (path is null || !File.Exists(path))
            {
                problems.Add($"{program} (started in {where}) is not installed here");
                continue;
            }
            var package = OwningPackage(path);
            if (package is null)
            {
                problems.Add($"{program} (started in {where}) at {path} belongs to no Debian package");
            }
            else if (!installed.Contains(package) && !IsEssential(package) && !installed.Any(listed => DependsOn(listed, package)))
            {
                problems.Add($"{program} (started in {where}) comes from package '{package}', which test.sh does not install");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_scan_finds_programs_in_every_way_tests_start_them()
    {
        var found = Scan("""
            var a = new ProcessStartInfo("alpha") { };
            await Command.RunAsync("beta", ["x"]);
            FakeCamera.RunAsync("gamma", args, cam);
            var r = Run("delta", args, env: null);
            public const string ExecutablePath = "/usr/bin/epsilon";
            var notAProgram = Run(name, "zeta");
            await ProcessServer.StartAsync(args, executable: "eta");
            var info = new ProcessStartInfo { FileName = "theta" };
            """);
        Assert.Equal(["/usr/bin/epsilon", "alpha", "beta", "delta", "eta", "gamma", "theta"], found.Order(StringComparer.Ordinal));
    }

    /// <summary>The packages listed after ensure_apt_packages in test.sh.</summary>
    private static HashSet<string> TestShPackages()
    {
        var lines = File.ReadAllLines(Path.Combine(PublishedBuild.RepositoryRoot, "test.sh"));
        var packages = new HashSet<string>(StringComparer.Ordinal);
        var inList = false;
        foreach (var line in lines)
        {
            var text = line.Trim();
            if (text.StartsWith("ensure_apt_packages ", StringComparison.Ordinal))
            {
                inList = true;
                text = text["ensure_apt_packages ".Length..];
            }
            if (!inList)
            {
                continue;
            }
            var continues = text.EndsWith('\\');
            foreach (var word in text.TrimEnd('\\').Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                packages.Add(word);
            }
            inList = continues;
        }
        Assert.NotEmpty(packages);
        return packages;
    }

    private static Dictionary<string, string> ProgramsStartedByTests()
    {
        var root = Path.Combine(PublishedBuild.RepositoryRoot, "VideoEdge.Tests");
        var programs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains("/obj/", StringComparison.Ordinal) || file.Contains("/bin/", StringComparison.Ordinal) || file.EndsWith(nameof(TestProgramsTests) + ".cs", StringComparison.Ordinal))
            {
                continue;
            }
            foreach (var program in Scan(File.ReadAllText(file)))
            {
                programs.TryAdd(program, Path.GetFileName(file));
            }
        }
        return programs;
    }

    private static IEnumerable<string> Scan(string source) =>
        StartCall().Matches(source).Select(m => m.Groups[1].Value)
            .Concat(UsrBinPath().Matches(source).Select(m => m.Groups[1].Value))
            .Distinct();

    /// <summary>A literal program name as the first argument of a process start, or named as the program to run.</summary>
    [GeneratedRegex("""(?:\b(?:ProcessStartInfo|RunAsync|Run)\(\s*|\b(?:executable|FileName)\s*[:=]\s*)"([a-z0-9][a-z0-9._+-]*)"[,)\s]""")]
    private static partial Regex StartCall();

    [GeneratedRegex("""["'](/usr/s?bin/[a-z0-9._+-]+)["']""")]
    private static partial Regex UsrBinPath();

    private static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    /// <summary>The package that ships this path (as given, then as /bin ↔ /usr/bin, then its real target).</summary>
    private static string? OwningPackage(string path)
    {
        var name = Path.GetFileName(path);
        var candidates = new[] { path, "/usr/bin/" + name, "/bin/" + name, "/usr/sbin/" + name, "/sbin/" + name, new FileInfo(path).ResolveLinkTarget(true)?.FullName };
        foreach (var candidate in candidates.OfType<string>().Distinct())
        {
            var (code, output) = Dpkg("dpkg-query", "-S", candidate);
            if (code == 0)
            {
                // "package[:arch]: /path" (or "a, b: /path" when several packages share a directory).
                return output.Split('\n')[0].Split(':')[0].Split(',')[0].Trim();
            }
        }
        return null;
    }

    /// <summary>Whether a listed package pulls this one in directly (python3 → python3-minimal, which ships /usr/bin/python3).</summary>
    private static bool DependsOn(string listed, string package) =>
        Dpkg("dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", listed) is (0, var depends)
        && depends.Split(',', '|').Select(d => d.Trim().Split(' ', ':')[0]).Contains(package);

    private static bool IsEssential(string package) =>
        Dpkg("dpkg-query", "-W", "-f=${Essential}", package) is (0, "yes");

    private static (int Code, string Output) Dpkg(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Trim());
    }
}
