using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using VideoEdge.Frames;

namespace VideoEdge.Hub;

/// <summary>
/// One viewer's registration with a hub: <see cref="NextAsync"/> leases the next frame newer than the
/// last one it leased, skipping whatever was published in between. The wait is a reusable value-task
/// source, so it allocates nothing; the hub signals it from the publishing thread and the
/// continuation runs on the thread pool, never inline on the capture thread.
/// </summary>
public sealed class Subscription : IValueTaskSource<bool>, IDisposable
{
    private readonly FrameHub _hub;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private readonly CancellationTokenRegistration _registration;
    private int _armed;
    private volatile bool _ended;
    private long _last;

    internal Subscription(FrameHub hub, ViewerCounters client, long startAfter, CancellationToken cancellation)
    {
        _hub = hub;
        Client = client;
        _last = startAfter;
        _registration = cancellation.UnsafeRegister(static s => ((Subscription)s!).Close(), this);
    }

    public ViewerCounters Client { get; }

    /// <summary>The hub closed (its camera is stopping): why a lease came back empty, if it did.</summary>
    public bool HubClosed => _hub.IsClosed;

    /// <summary>Frames published between the previous lease and the last one: this viewer never saw them.</summary>
    public long Skipped { get; private set; }

    /// <summary>
    /// The next frame newer than the last one leased; an empty lease once the viewer or the hub ends.
    /// A camera switched off on demand leaves no latest frame: the wait then goes on for its next one.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<FrameLease> NextAsync()
    {
        while (await WaitNewerAsync(_last).ConfigureAwait(false))
        {
            var lease = _hub.AcquireLatest(out var sequence);
            if (!lease.HasFrame)
            {
                if (_hub.IsClosed)
                {
                    break;
                }
                _last = sequence;
                continue;
            }
            var frame = lease.Frame;
            Skipped = _last == 0 ? 0 : frame.Sequence - _last - 1;
            _last = frame.Sequence;
            return lease;
        }
        return default;
    }

    /// <summary>True once a frame newer than <paramref name="sequence"/> exists; false when the viewer or hub is ending.</summary>
    internal ValueTask<bool> WaitNewerAsync(long sequence)
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
        _hub.Wanting?.Invoke();
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
