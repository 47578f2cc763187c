namespace VideoEdge.Cameras;

/// <summary>
/// Counts durations into fixed buckets (Prometheus-style upper bounds), lock-free and allocation-free,
/// so the capture thread can record every encode.
/// </summary>
public sealed class DurationHistogram
{
    /// <summary>Upper bounds in seconds; a last, unbounded bucket catches the rest.</summary>
    public static ReadOnlySpan<double> BoundsSeconds => [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

    private static readonly long[] s_boundTicks = [.. BoundsSeconds.ToArray().Select(s => (long)(s * TimeSpan.TicksPerSecond))];
    private readonly long[] _counts = new long[s_boundTicks.Length + 1];
    private long _sumTicks;

    public void Record(TimeSpan duration)
    {
        var ticks = duration.Ticks;
        var bucket = 0;
        while (bucket < s_boundTicks.Length && ticks > s_boundTicks[bucket])
        {
            bucket++;
        }
        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Add(ref _sumTicks, ticks);
    }

    /// <summary>Observations in bucket <paramref name="index"/> alone (not cumulative); the last is the unbounded one.</summary>
    public long CountIn(int index) => Interlocked.Read(ref _counts[index]);

    public int BucketCount => _counts.Length;

    public TimeSpan Sum => TimeSpan.FromTicks(Interlocked.Read(ref _sumTicks));
}
