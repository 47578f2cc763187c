using VideoEdge.Frames;

namespace VideoEdge.Hub;

/// <summary>
/// Holds the latest frame of one camera and wakes every waiting client when a newer one arrives.
/// Frames leave it only as <see cref="FrameLease"/>s: from a viewer's <see cref="Subscription"/>,
/// from <see cref="NextAfterAsync"/> for one-off requests, or <see cref="AcquireLatest()"/>.
/// Latest frame wins: there is no queue, so a client that is busy writing simply finds a newer frame
/// (and skips the ones in between) when it asks again.
/// </summary>
public sealed class FrameHub : IDisposable
{
    private readonly Lock _lock = new();
    private Frame? _latest;
    private long _sequence;
    private Subscription[] _waiters = [];
    // Completed by the next publish: what one-off waits (snapshots) await without registering as viewers.
    private TaskCompletionSource? _next;
    private long _demandUntil;
    private bool _closed;
    // Made when a frame first goes to enough sockets; null until then, or where memfd is missing.
    private FrameFile? _file;
    private bool _noFile;

    /// <summary>Sequence of the latest published frame, 0 before the first.</summary>
    public long LatestSequence => Volatile.Read(ref _sequence);

    public int ViewerCount => Volatile.Read(ref _waiters).Length;

    /// <summary>Clients, or a snapshot asked for in the last few seconds: worth encoding for.</summary>
    public bool HasDemand => ViewerCount > 0 || Environment.TickCount64 < Volatile.Read(ref _demandUntil);

    public IReadOnlyList<Subscription> Viewers => Volatile.Read(ref _waiters);

    public event Action? DemandChanged;

    /// <summary>
    /// Called when a viewer asks for a frame newer than the latest and has to wait: what a hub fed on
    /// demand (a variant) makes its next frame on. Null for a camera's hub, which is fed regardless.
    /// </summary>
    internal Action? Wanting { get; set; }

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
        Subscription[] waiters;
        FrameFile? copyTo = null;
        IFramer? framing = null;
        Frame? old;
        lock (_lock)
        {
            if (_closed)
            {
                frame.Release();
                return;
            }
            old = _latest;
            frame.Sequence = _sequence + 1;
            _latest = frame;
            Volatile.Write(ref _sequence, frame.Sequence);
            waiters = _waiters;
            if (!_noFile && waiters.Length >= FrameFile.MinViewers
                && SendingFromThisThread(waiters, out framing) >= FrameFile.MinViewers)
            {
                _file ??= FrameFile.TryCreate();
                _noFile = _file is null;
                copyTo = _file;
                if (copyTo is not null)
                {
                    // Held while we copy it: another publisher may replace it as the latest meanwhile.
                    frame.AddRef();
                }
            }
        }
        old?.Release();
        if (copyTo is not null)
        {
            try
            {
                copyTo.TryCopy(frame, framing!);
            }
            finally
            {
                frame.Release();
            }
        }
        Interlocked.Exchange(ref _next, null)?.TrySetResult();
        foreach (var waiter in waiters)
        {
            waiter.OnPublished();
        }
    }

    /// <summary>
    /// Viewers that will send this frame on the publishing thread (the ones a file copy saves a copy
    /// each, <see cref="FrameFile"/>), and the framing most of them use, which the copy is framed with
    /// (a majority vote: one pass, nothing allocated; with no framing over half, one of the others).
    /// </summary>
    private static int SendingFromThisThread(Subscription[] waiters, out IFramer framing)
    {
        var n = 0;
        var votes = 0;
        framing = BareFramer.Instance;
        foreach (var waiter in waiters)
        {
            if (!waiter.ResumeOnPublisher)
            {
                continue;
            }
            n++;
            // A head too long for the room before a copy gets no vote: its viewers send their own.
            if (waiter.Framing is not { MaxHeadBytes: <= FrameFile.MaxHeadBytes } own)
            {
                continue;
            }
            if (votes == 0)
            {
                framing = own;
            }
            votes += ReferenceEquals(own, framing) ? 1 : -1;
        }
        return n;
    }

    /// <summary>A lease on the latest frame; empty before the first frame (or after <see cref="DropLatest"/>).</summary>
    public FrameLease AcquireLatest() => AcquireLatest(out _);

    /// <summary>A lease on the latest frame (or empty) and the sequence it was published under.</summary>
    internal FrameLease AcquireLatest(out long sequence)
    {
        lock (_lock)
        {
            sequence = _sequence;
            if (_latest is null)
            {
                return default;
            }
            _latest.AddRef();
            return new FrameLease(_latest);
        }
    }

    /// <summary>
    /// A lease on the first frame published after <paramref name="sequence"/> (the latest one if it
    /// already is), waiting at most <paramref name="timeout"/>; empty on timeout or when the hub
    /// closes. Does not register a viewer: for one-off requests such as snapshots.
    /// </summary>
    public async Task<FrameLease> NextAfterAsync(long sequence, TimeSpan timeout, CancellationToken cancellation)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            Task next;
            lock (_lock)
            {
                if (_closed)
                {
                    return default;
                }
                if (_latest is { } latest && latest.Sequence > sequence)
                {
                    latest.AddRef();
                    return new FrameLease(latest);
                }
                next = (_next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                return default;
            }
            try
            {
                await next.WaitAsync(TimeSpan.FromMilliseconds(left), cancellation).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return default;
            }
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

    /// <summary>
    /// Registers a viewer; dispose the subscription when it leaves. Its first lease is the latest
    /// frame, or with <paramref name="onlyNewer"/> the first one published after this call (for
    /// senders that resume after a pause, when what the hub holds was captured before it).
    /// </summary>
    public Subscription Subscribe(ViewerCounters client, CancellationToken cancellation, bool onlyNewer = false)
    {
        var waiter = new Subscription(this, client, onlyNewer ? LatestSequence : 0, cancellation);
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

    internal void Unsubscribe(Subscription waiter)
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
        Interlocked.Exchange(ref _next, null)?.TrySetResult();
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
