using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("VideoEdge.Tests.Infrastructure.LongestFirst", "VideoEdge.Tests")]

namespace VideoEdge.Tests.Infrastructure;

/// <summary>
/// A test class (or collection definition) that takes about <paramref name="seconds"/> in all, most of it
/// waiting (a browser, a shaped link, a compiler). <see cref="LongestFirst"/> starts these first, so they
/// do not begin at the end of the parallel phase and keep it going long after everything else is done.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class LongRunningAttribute(int seconds) : Attribute
{
    public int Seconds => seconds;
}

/// <summary>
/// Longest first, as a scheduler does for jobs of known length: the collections marked
/// <see cref="LongRunningAttribute"/> by their estimate, then all others in xunit's usual order.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    private const string ClassCollectionPrefix = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        new DefaultTestCollectionOrderer().OrderTestCollections(testCollections).OrderByDescending(Seconds);

    private static int Seconds(ITestCollection collection)
    {
        // A [Collection] with a definition carries the attribute on the definition; a class's own collection on the class.
        var type = collection.CollectionDefinition
            ?? (collection.DisplayName.StartsWith(ClassCollectionPrefix, StringComparison.Ordinal)
                ? collection.TestAssembly.Assembly.GetType(collection.DisplayName[ClassCollectionPrefix.Length..])
                : null);
        var attribute = type?.GetCustomAttributes(typeof(LongRunningAttribute)).FirstOrDefault();
        return attribute?.GetConstructorArguments().FirstOrDefault() as int? ?? 0;
    }
}
