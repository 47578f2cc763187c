namespace VideoEdge.Frames;

/// <summary>Wall-clock capture timestamps in microseconds since the Unix epoch.</summary>
public static class Clock
{
    public static long UnixMicrosNow() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
}
