using System.Collections.Concurrent;

namespace VideoEdge.Tests.Deployment;

/// <summary>
/// One publish per RID per test run, shared by every deployment test. Each run publishes into a
/// temporary directory of its own, so parallel runs (and the developer's own dist/) never collide;
/// the intermediate files go as soon as a build is done, the rest when the collection ends.
/// </summary>
public sealed class PublishedBuilds : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"videoedge-deploy-{Guid.NewGuid():N}");
    private readonly ConcurrentDictionary<string, Lazy<Task<PublishedBuild>>> _builds = new();

    public Task<PublishedBuild> GetAsync(string rid) =>
        _builds.GetOrAdd(rid, r => new Lazy<Task<PublishedBuild>>(() => PublishAsync(r))).Value;

    private async Task<PublishedBuild> PublishAsync(string rid)
    {
        var dist = Path.Combine(_root, "dist");
        var intermediate = Path.Combine(_root, "build-" + rid);
        try
        {
            var result = await Command.RunAsync("bash", [PublishedBuild.PublishScript, rid], new Dictionary<string, string>
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

    public void Dispose() => DeleteQuietly(_root);

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
