using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using VideoEdge.Frames;

namespace VideoEdge.Hub;

/// <summary>
/// One viewer's registration with a hub: <see cref="NextAsync"/> leases the next frame newer than the
/// last one it leased, skipping whatever was published in between. The wait is a reusable value-task
/// source, so it allocates nothing. A new frame resumes the waiting viewer on the thread pool, or with
/// <see cref="ResumeOnPublisher"/> on the publishing thread itself.
/// </summary>
public sealed class Subscription : IValueTaskSource<bool>, IDisposable
{
    private readonly FrameHub _hub;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private readonly CancellationTokenRegistration _registration;
    private int _armed;
    private volatile bool _ended;
    private long _last;
    // Threads inside SetResult (which may run the viewer inline): see GetStatus.
    private int _signalling;

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
    /// Resume the waiting viewer on the publishing thread when a frame arrives, not on the thread pool:
    /// for a viewer whose send is one non-blocking system call while its socket has room, which is
    /// then all a frame costs it (the thread-pool hop per viewer per frame cost more than the send's
    /// own user-space work). A send that has to wait goes on asynchronously and frees the publishing
    /// thread; the end of a viewer (hub closing, viewer leaving) always resumes on the thread pool.
    /// </summary>
    public bool ResumeOnPublisher { get; set; }

    /// <summary>How this viewer frames what it sends: the hub frames a frame's file copy as most of its viewers do.</summary>
    public IFramer? Framing { get; set; }

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
            if (frame.Sequence <= _last)
            {
                // A late wake-up: this viewer found the frame itself, between its publish and the
                // publisher's signal to it, and had parked again for the next one.
                lease.Dispose();
                continue;
            }
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

    /// <summary>A frame was published: wake the viewer if it waits (it leases the frame itself, as the latest).</summary>
    internal void OnPublished() => Signal(true);

    private void Signal(bool frameArrived)
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            // Set by whoever won the disarm, before it completes the wait: only a frame is worth the
            // publishing thread's time, and the cleanup of an ending viewer must not run on it.
            _core.RunContinuationsAsynchronously = !(frameArrived && ResumeOnPublisher);
            Interlocked.Increment(ref _signalling);
            _core.SetResult(frameArrived);
            Interlocked.Decrement(ref _signalling);
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
    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token)
    {
        var status = _core.GetStatus(token);
        // SetResult marks the wait complete before it reads the continuation to run. A viewer that saw
        // it complete then could go on, park again (Reset) and register its next continuation before
        // that read, which would then run it for a wait not yet complete. So while a completion is in
        // progress the wait looks pending: the awaiter registers its continuation, which the signalling
        // thread runs or, if it already passed, the core queues at once. (Full fence: on arm64 the
        // read of the flag must not move before the core's read of its completion.)
        if (status == ValueTaskSourceStatus.Succeeded)
        {
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _signalling) != 0)
            {
                return ValueTaskSourceStatus.Pending;
            }
        }
        return status;
    }
    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);
}
