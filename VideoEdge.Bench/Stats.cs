namespace VideoEdge.Bench;

internal static class Stats
{
    public static double Median(IReadOnlyList<double> sorted)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        var mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    public static double Median(IEnumerable<double> values) => Median(values.Where(double.IsFinite).Order().ToArray());

    /// <summary>Nearest-rank percentile of sorted nanosecond samples, in milliseconds.</summary>
    public static double PercentileMs(long[] sortedNs, double p)
    {
        if (sortedNs.Length == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(p * sortedNs.Length) - 1;
        return sortedNs[Math.Clamp(rank, 0, sortedNs.Length - 1)] / 1e6;
    }
}
