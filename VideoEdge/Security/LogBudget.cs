namespace VideoEdge.Security;

/// <summary>
/// At most one log line per interval for something a peer can repeat at will (bad requests, bad
/// frames): what is left out is counted and reported with the next line, so a flood costs a
/// counter, not the disk.
/// </summary>
public sealed class LogBudget(TimeSpan interval)
{
    private readonly long _intervalMs = (long)interval.TotalMilliseconds;
    private readonly Lock _lock = new();
    private long _nextLineAt;
    private long _leftOut;

    /// <summary>True when a line may be written now; <paramref name="leftOut"/> is how many were not since the last one.</summary>
    public bool TryTake(out long leftOut)
    {
        lock (_lock)
        {
            var now = Environment.TickCount64;
            if (now < _nextLineAt)
            {
                _leftOut++;
                leftOut = 0;
                return false;
            }
            _nextLineAt = now + _intervalMs;
            leftOut = _leftOut;
            _leftOut = 0;
            return true;
        }
    }
}
