namespace VideoEdge.Tests.Deployment;

/// <summary>
/// Tests of the published binaries. They run alone, after the parallel tests, so their startup and
/// shutdown bounds are not stretched by them. The publishes themselves (natively compiling on every
/// core for a minute or two) happen earlier, in <see cref="PublishTests"/> in the parallel phase;
/// run on their own, these tests publish on demand.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DeploymentCollection : ICollectionFixture<PublishedBuilds>
{
    public const string Name = "deployment";
}
