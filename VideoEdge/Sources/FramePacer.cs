using System.Diagnostics;

namespace VideoEdge.Sources;

/// <summary>
/// Sleeps the capture thread until the next frame is due, on an absolute schedule so that the
/// time spent rendering and encoding does not make the rate drift. A late frame resets the schedule
/// rather than bursting to catch up.
/// </summary>
public sealed class FramePacer(double fps)
{
    private readonly long _interval = (long)(Stopwatch.Frequency / Math.Max(fps, 0.01));
    private long _next;

    public void Reset() => _next = 0;

    /// <summary>Returns false when cancelled.</summary>
    public bool Wait(CancellationToken cancellation)
    {
        var now = Stopwatch.GetTimestamp();
        if (_next == 0 || now - _next > _interval * 4)
        {
            _next = now;
        }
        var wait = _next - now;
        _next += _interval;
        if (wait <= 0)
        {
            return !cancellation.IsCancellationRequested;
        }
        var ms = (int)Math.Ceiling(wait * 1000.0 / Stopwatch.Frequency);
        return !cancellation.WaitHandle.WaitOne(ms);
    }
}
