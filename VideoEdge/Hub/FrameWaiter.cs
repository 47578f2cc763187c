using System.Threading.Tasks.Sources;

namespace VideoEdge.Hub;

/// <summary>
/// One viewer's "wake me when there is a frame newer than N". A reusable value-task source, so
/// waiting for a frame allocates nothing; the hub signals it from the publishing thread and the
/// continuation runs on the thread pool, never inline on the capture thread.
/// </summary>
public sealed class FrameWaiter : IValueTaskSource<bool>, IDisposable
{
    private readonly FrameHub _hub;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private readonly CancellationTokenRegistration _registration;
    private int _armed;
    private volatile bool _ended;

    internal FrameWaiter(FrameHub hub, ClientInfo client, CancellationToken cancellation)
    {
        _hub = hub;
        Client = client;
        _registration = cancellation.UnsafeRegister(static s => ((FrameWaiter)s!).Close(), this);
    }

    public ClientInfo Client { get; }

    /// <summary>True once a frame newer than <paramref name="sequence"/> exists; false when the viewer or hub is ending.</summary>
    public ValueTask<bool> WaitNewerAsync(long sequence)
    {
        if (_ended)
        {
            return new(false);
        }
        if (_hub.LatestSequence > sequence)
        {
            return new(true);
        }
        _core.Reset();
        Volatile.Write(ref _armed, 1);
        // A frame (or the end) may have arrived between the check and arming: if we can disarm
        // ourselves nobody will signal, so answer synchronously; otherwise the signal is on its way.
        if ((_hub.LatestSequence > sequence || _ended) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            return new(!_ended);
        }
        return new(this, _core.Version);
    }

    internal void Signal(bool result)
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _core.SetResult(result);
        }
    }

    internal void Close()
    {
        _ended = true;
        Signal(false);
    }

    public void Dispose()
    {
        _registration.Dispose();
        _hub.Unsubscribe(this);
        Close();
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);
    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
