using System.Diagnostics;

namespace VideoEdge.Hub;

/// <summary>Events per second over the last two seconds, from a fixed ring of timestamps (no allocation).</summary>
public sealed class RateMeter
{
    private const int Slots = 128;
    private static readonly long Window = Stopwatch.Frequency * 2;
    private readonly long[] _ticks = new long[Slots];
    private readonly Lock _lock = new();
    private int _next;
    private int _count;

    public void Tick()
    {
        lock (_lock)
        {
            _ticks[_next] = Stopwatch.GetTimestamp();
            _next = (_next + 1) % Slots;
            if (_count < Slots)
            {
                _count++;
            }
        }
    }

    public double PerSecond
    {
        get
        {
            lock (_lock)
            {
                var now = Stopwatch.GetTimestamp();
                var n = 0;
                var oldest = now;
                for (var i = 1; i <= _count; i++)
                {
                    var t = _ticks[(_next - i + Slots) % Slots];
                    if (now - t > Window)
                    {
                        break;
                    }
                    oldest = t;
                    n++;
                }
                if (n < 2)
                {
                    return n == 1 ? 0.5 : 0;
                }
                // n events span (n-1) intervals; measure to now so a stalled stream decays.
                var span = Math.Max(now - oldest, Stopwatch.Frequency / 2);
                return Math.Round((n - 1) * (double)Stopwatch.Frequency / span, 2);
            }
        }
    }
}
