using System.Collections.Concurrent;

namespace VideoEdge.Tests.Deployment;

/// <summary>
/// One publish per RID per test run, shared by every deployment test and by <see cref="PublishTests"/>,
/// which starts both at the beginning of the parallel phase so the deployment collection, which runs
/// alone afterwards, finds them built. Each run publishes into a temporary directory of its own, so
/// parallel runs (and the developer's own dist/) never collide; the intermediate files go as soon as a
/// build is done, the rest when the test process exits.
/// </summary>
public sealed class PublishedBuilds
{
    private static readonly string s_root = Path.Combine(Path.GetTempPath(), $"videoedge-deploy-{Guid.NewGuid():N}");
    private static readonly ConcurrentDictionary<string, Lazy<Task<PublishedBuild>>> s_builds = new();

    static PublishedBuilds() => AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteQuietly(s_root);

    public Task<PublishedBuild> GetAsync(string rid) =>
        s_builds.GetOrAdd(rid, r => new Lazy<Task<PublishedBuild>>(() => PublishAsync(r))).Value;

    private static async Task<PublishedBuild> PublishAsync(string rid)
    {
        var dist = Path.Combine(s_root, "dist");
        var intermediate = Path.Combine(s_root, "build-" + rid);
        try
        {
            // At the lowest CPU priority: a native compile takes every core for minutes, and the browsers
            // and links of the parallel phase beside it must not stall for seconds (a page that sees no
            // frame for 10 s says "reconnecting"). The build waits instead; nothing times it closely.
            var result = await Command.RunAsync("nice", ["-n", "19", "bash", PublishedBuild.PublishScript, rid], new Dictionary<string, string>
            {
                ["DIST"] = dist,
                ["BUILD_DIR"] = intermediate,
            }, TimeSpan.FromMinutes(10));
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"publish.sh {rid} failed:\n{result}");
            }
            return new PublishedBuild(rid, Path.Combine(dist, rid), result.Output);
        }
        finally
        {
            DeleteQuietly(intermediate);
        }
    }

    private static void DeleteQuietly(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
