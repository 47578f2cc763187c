using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using VideoEdge.Frames;

namespace VideoEdge.Hub;

/// <summary>
/// What a viewer answers when the hub offers it a frame on the publishing thread (<see cref="IDirectReceiver"/>).
/// </summary>
public enum DirectResult
{
    /// <summary>Not sent: the viewer's loop wakes and takes the latest frame itself.</summary>
    Declined,
    /// <summary>Sent completely: the viewer stays parked for the next frame; nothing else runs.</summary>
    Sent,
    /// <summary>Partly sent (its connection filled up): the viewer's loop wakes to finish this very frame.</summary>
    Started,
}

/// <summary>
/// A viewer that can take a frame on the publishing thread, while its loop is parked waiting: one
/// non-blocking send and done, with no thread-pool hop to wake the loop (what a viewer costs beyond
/// the send itself). Only viewers whose connection is full go the asynchronous way.
/// </summary>
public interface IDirectReceiver
{
    /// <summary>
    /// Sends <paramref name="frame"/> if that takes no waiting. Must not block, and must not throw
    /// for a peer that went away (answer <see cref="DirectResult.Declined"/>: the loop finds out).
    /// </summary>
    DirectResult TrySend(Frame frame, long skipped);
}

/// <summary>
/// One viewer's registration with a hub: <see cref="NextAsync"/> leases the next frame newer than the
/// last one it leased, skipping whatever was published in between. The wait is a reusable value-task
/// source, so it allocates nothing. With a <see cref="Direct"/> receiver the publishing thread hands
/// a parked viewer its frame itself; otherwise it signals the wait and the continuation runs on the
/// thread pool, never inline on the capture thread.
/// </summary>
public sealed class Subscription : IValueTaskSource<bool>, IDisposable
{
    private readonly FrameHub _hub;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private readonly CancellationTokenRegistration _registration;
    private int _armed;
    private volatile bool _ended;
    private long _last;
    // A frame the publishing thread started sending directly; the loop's next lease is it, to finish.
    private Frame? _handoff;

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
    /// Takes frames on the publishing thread while this viewer waits (set before its first wait).
    /// A receiver that sends whole frames itself makes <see cref="NextAsync"/> return only for frames
    /// it declined or started.
    /// </summary>
    public IDirectReceiver? Direct { get; set; }

    /// <summary>
    /// The next frame newer than the last one leased; an empty lease once the viewer or the hub ends.
    /// A camera switched off on demand leaves no latest frame: the wait then goes on for its next one.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<FrameLease> NextAsync()
    {
        while (await WaitNewerAsync(_last).ConfigureAwait(false))
        {
            if (Interlocked.Exchange(ref _handoff, null) is { } started)
            {
                return new FrameLease(started);
            }
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
                // Sent directly by the publishing thread while this wait was being set up.
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
        // A frame the publishing thread sent directly in between is no news (it moved _last).
        if ((_hub.LatestSequence > Math.Max(sequence, Volatile.Read(ref _last)) || _ended) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            return new(!_ended);
        }
        return new(this, _core.Version);
    }

    /// <summary>
    /// A frame was published (the hub holds a reference across this call). A parked viewer with a
    /// <see cref="Direct"/> receiver is offered it here; the rest are woken to take it themselves.
    /// </summary>
    internal void OnPublished(Frame frame)
    {
        if (Direct is not { } direct)
        {
            Signal(true);
            return;
        }
        // Disarming makes this thread the one that wakes the loop (or not): a close racing with us
        // finds nothing armed and leaves that to us.
        if (Interlocked.Exchange(ref _armed, 0) != 1)
        {
            return;
        }
        if (_ended)
        {
            _core.SetResult(false);
            return;
        }
        if (frame.Sequence <= _last)
        {
            // The loop saw this frame published before we got here, leased it itself and is parked
            // again for the next one: this offer is stale.
            Rearm();
            return;
        }
        var skipped = _last == 0 ? 0 : frame.Sequence - _last - 1;
        switch (direct.TrySend(frame, skipped))
        {
            case DirectResult.Sent:
                (_last, Skipped) = (frame.Sequence, skipped);
                Rearm();
                break;
            case DirectResult.Started:
                (_last, Skipped) = (frame.Sequence, skipped);
                frame.AddRef();
                Volatile.Write(ref _handoff, frame);
                _core.SetResult(true);
                break;
            default:
                _core.SetResult(true);
                break;
        }
    }

    /// <summary>Parks the loop again after a direct send, as its own wait would (the loop never woke).</summary>
    private void Rearm()
    {
        Volatile.Write(ref _armed, 1);
        _hub.Wanting?.Invoke();
        // A close, or a frame from another publisher, that came while we sent found nothing armed.
        if ((_ended || _hub.LatestSequence > _last) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _core.SetResult(!_ended);
        }
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
