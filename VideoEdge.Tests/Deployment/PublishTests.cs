using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Deployment;

/// <summary>
/// Publishes both platforms at the start of the run, beside the other parallel tests (which have loose
/// bounds and mostly wait), instead of at the start of the deployment collection, which runs alone after
/// them. The timing-sensitive collection runs after the parallel phase too, so a publish — natively
/// compiling on every core — never overlaps it. Both publishes at once: each has long single-threaded
/// stretches (restore, trimming) that the other fills.
/// </summary>
[LongRunning(200)]
public sealed class PublishTests
{
    [Fact]
    public async Task Both_platforms_publish_to_a_native_binary_of_their_architecture()
    {
        var builds = new PublishedBuilds();
        var x64 = builds.GetAsync("linux-x64");
        var arm64 = builds.GetAsync("linux-arm64");
        Assert.Equal(0x3E, PublishedBuild.ElfMachine((await x64).Binary));
        Assert.Equal(0xB7, PublishedBuild.ElfMachine((await arm64).Binary));
    }
}
