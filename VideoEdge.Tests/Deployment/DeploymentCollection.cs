namespace VideoEdge.Tests.Deployment;

/// <summary>
/// Tests of the published binaries. Publishing compiles natively on every core for a minute or
/// two, so these run alone, after the parallel tests: they neither disturb timing-sensitive tests
/// nor get their own startup and shutdown bounds stretched by them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DeploymentCollection : ICollectionFixture<PublishedBuilds>
{
    public const string Name = "deployment";
}
