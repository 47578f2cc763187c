using VideoEdge.Frames;

namespace VideoEdge.Hub;

/// <summary>
/// Holds the latest frame of one camera and wakes every waiting client when a newer one arrives.
/// Latest frame wins: there is no queue, so a client that is busy writing simply finds a newer frame
/// (and skips the ones in between) when it asks again.
/// </summary>
public sealed class FrameHub : IDisposable
{
    private readonly Lock _lock = new();
    private Frame? _latest;
    private long _sequence;
    private FrameWaiter[] _waiters = [];
    private long _demandUntil;
    private bool _closed;

    /// <summary>Sequence of the latest published frame, 0 before the first.</summary>
    public long LatestSequence => Volatile.Read(ref _sequence);

    public int ViewerCount => Volatile.Read(ref _waiters).Length;

    /// <summary>Clients, or a snapshot asked for in the last few seconds: worth encoding for.</summary>
    public bool HasDemand => ViewerCount > 0 || Environment.TickCount64 < Volatile.Read(ref _demandUntil);

    public IReadOnlyList<FrameWaiter> Viewers => Volatile.Read(ref _waiters);

    public event Action? DemandChanged;

    /// <summary>Marks a one-off request (a snapshot) so an idle encoder produces the next frame.</summary>
    public void RequestFrame()
    {
        var wasIdle = !HasDemand;
        Volatile.Write(ref _demandUntil, Environment.TickCount64 + 3000);
        if (wasIdle)
        {
            DemandChanged?.Invoke();
        }
    }

    /// <summary>Publishes <paramref name="frame"/>, taking over the caller's reference.</summary>
    public void Publish(Frame frame)
    {
        Frame? old;
        lock (_lock)
        {
            if (_closed)
            {
                old = frame;
            }
            else
            {
                old = _latest;
                frame.Sequence = _sequence + 1;
                _latest = frame;
                Volatile.Write(ref _sequence, frame.Sequence);
            }
        }
        old?.Release();
        foreach (var waiter in Volatile.Read(ref _waiters))
        {
            waiter.Signal(true);
        }
    }

    /// <summary>The latest frame with a reference added for the caller, or null before the first frame.</summary>
    public Frame? AcquireLatest()
    {
        lock (_lock)
        {
            _latest?.AddRef();
            return _latest;
        }
    }

    /// <summary>The latest frame (referenced for the caller, or null) and the sequence it was published under.</summary>
    public Frame? AcquireLatest(out long sequence)
    {
        lock (_lock)
        {
            _latest?.AddRef();
            sequence = _sequence;
            return _latest;
        }
    }

    /// <summary>
    /// Forgets the latest frame without closing: a camera switched off on demand leaves nothing stale
    /// behind, so whoever comes next waits for the first fresh frame (the sequence keeps counting).
    /// </summary>
    public void DropLatest()
    {
        Frame? old;
        lock (_lock)
        {
            old = _latest;
            _latest = null;
        }
        old?.Release();
    }

    /// <summary>Registers a viewer; dispose the waiter when it leaves.</summary>
    public FrameWaiter Subscribe(ClientInfo client, CancellationToken cancellation)
    {
        var waiter = new FrameWaiter(this, client, cancellation);
        bool first;
        lock (_lock)
        {
            if (_closed)
            {
                // A request that arrives during shutdown: its wait ends at once instead of spinning
                // on a hub whose latest frame is gone.
                waiter.Close();
                return waiter;
            }
            first = _waiters.Length == 0;
            _waiters = [.. _waiters, waiter];
        }
        if (first)
        {
            DemandChanged?.Invoke();
        }
        return waiter;
    }

    internal void Unsubscribe(FrameWaiter waiter)
    {
        bool last;
        lock (_lock)
        {
            var index = Array.IndexOf(_waiters, waiter);
            if (index < 0)
            {
                return;
            }
            _waiters = [.. _waiters.AsSpan(0, index), .. _waiters.AsSpan(index + 1)];
            last = _waiters.Length == 0;
        }
        if (last)
        {
            DemandChanged?.Invoke();
        }
    }

    /// <summary>Ends every wait (they complete with false) and drops the latest frame.</summary>
    public void Dispose()
    {
        Frame? old;
        lock (_lock)
        {
            _closed = true;
            old = _latest;
            _latest = null;
        }
        old?.Release();
        foreach (var waiter in Volatile.Read(ref _waiters))
        {
            waiter.Close();
        }
    }

    internal bool IsClosed
    {
        get
        {
            lock (_lock)
            {
                return _closed;
            }
        }
    }
}
