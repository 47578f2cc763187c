using System.Runtime.CompilerServices;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>
/// Tests whose assertions depend on timing (every frame arrives, rates within bounds) run in this
/// collection, alone, after the parallel ones: they share the test host's thread pool and two
/// cores with whatever else runs, and the server in production shares neither.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitive
{
    public const string Name = "timing-sensitive";
}

internal static class TestSetup
{
    /// <summary>
    /// Several in-process servers and blocking test helpers share one thread pool here; start it
    /// wide enough that a briefly blocked worker does not stall a server's viewers for the pool's
    /// thread-injection delay.
    /// </summary>
    [ModuleInitializer]
    internal static void WidenThreadPool() => ThreadPool.SetMinThreads(32, 32);
}
