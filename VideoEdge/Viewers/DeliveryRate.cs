using System.Net.Sockets;

namespace VideoEdge.Viewers;

/// <summary>
/// What the kernel knows about one viewer's TCP connection (TCP_INFO): how many bytes the peer has
/// acknowledged, how many are still queued for it (sent but unacknowledged, or not sent yet), and the
/// rate it takes them at. A viewer's next frame starts only when what is queued would drain within
/// <see cref="Budget"/> at that rate, so a new frame waits behind at most a sliver of the previous one
/// at any link speed; on loopback or a LAN the allowance is megabytes and nothing ever waits. The
/// socket's own buffer bounds nothing useful here: at 20 KB/s, 256 KB of it is 12 s of old pictures.
/// </summary>
public sealed class DeliveryRate
{
    /// <summary>How long what is queued for a viewer may take to drain before its next frame starts.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromMilliseconds(150);

    /// <summary>Always allowed queued: tc's burst and a few segments, below which waiting gains nothing.</summary>
    private const long MinAllowed = 4096;

    private readonly Socket _socket;
    private long _written;
    private long _ackedAtStart = -1;
    private double _measured;
    private long _lastAcked;
    private long _lastQueued;
    private long _lastTicks;
    private long _drainedUntil;
    /// <summary>The size of the last frame written: how much room "several more frames" takes.</summary>
    private long _lastWrite;

    /// <summary>How long a viewer found drained, or with room for several more frames, goes unmeasured.</summary>
    private const long DrainedSkipMs = 100;

    /// <summary>Frames that fit in the allowance on top of what is queued for a viewer to go unmeasured for a while.</summary>
    private const int SkipFrames = 4;

    private DeliveryRate(Socket socket) => _socket = socket;

    /// <summary>
    /// A gauge for <paramref name="socket"/>, or null when the kernel does not give the byte counts.
    /// The sink reports every byte it hands on with <see cref="Wrote"/>: what is queued is what was
    /// written since less what the peer acknowledged since. That also covers bytes in a buffer above
    /// the socket the kernel cannot see (Kestrel's TLS pipe); and the kernel's own sent-less-retransmitted
    /// count is no substitute: after tbf drops segments it stays tens of KB above what is really
    /// unacknowledged (measured here), and a viewer would wait forever.
    /// </summary>
    public static DeliveryRate? TryCreate(Socket socket)
    {
        if (!OperatingSystem.IsLinux() || socket.ProtocolType != ProtocolType.Tcp)
        {
            return null;
        }
        var gauge = new DeliveryRate(socket);
        if (!gauge.TryRead(out var sample))
        {
            return null;
        }
        gauge._ackedAtStart = sample.Acked;
        return gauge;
    }

    /// <summary>One reading: bytes the peer acknowledged so far, bytes still queued for it, and its rate in bytes per second (0: not known yet; from <see cref="TryRead"/>, the kernel's).</summary>
    public readonly record struct Sample(long Acked, long Queued, double Rate);

    /// <summary>The rate last measured by the viewer's loop, bytes per second (0 before the first acknowledgement).</summary>
    public double Rate { get; private set; }

    /// <summary>Bytes the peer has acknowledged: grows while the viewer receives, however slowly.</summary>
    public long Acked => TryRead(out var sample) ? sample.Acked : 0;

    public void Wrote(long bytes)
    {
        Interlocked.Add(ref _written, bytes);
        _lastWrite = bytes;
    }

    public bool TryRead(out Sample sample)
    {
        sample = default;
        // struct tcp_info's layout is checked against gcc in Interop's layout test; the fields read here
        // (bytes acked, not-sent bytes, delivery rate) are all there since Linux 4.9.
        if (!Interop.TcpInfo.TryRead(_socket, out var info, out var length)
            || length < Interop.TcpInfo.EndOf(ref info, ref info.DeliveryRate))
        {
            return false;
        }
        var acked = (long)info.BytesAcked;
        var notSent = (long)info.NotSentBytes;
        var kernelRate = (double)info.DeliveryRate;
        // Bytes others wrote on the connection after we started (Kestrel's 101, TLS records' overhead)
        // make this a little low: harmless, the allowance is larger.
        var queued = Math.Max(notSent, _ackedAtStart < 0 ? 0 : Interlocked.Read(ref _written) - (acked - _ackedAtStart));
        sample = new Sample(acked, queued, kernelRate);
        return true;
    }

    /// <summary>Completes at once when the viewer's queue would drain within the budget; otherwise once it would.</summary>
    public ValueTask WaitForRoomAsync(CancellationToken cancellation)
        => HasRoomNow(out var sample) ? ValueTask.CompletedTask : WaitSlowAsync(sample, cancellation);

    /// <summary>
    /// True when the viewer's queue would drain within the budget now; never waits.
    /// </summary>
    private bool HasRoomNow(out Sample sample)
    {
        sample = default;
        // A viewer found fully drained, or with room for several more frames at its rate, is not
        // looked at again for a moment: on loopback or a LAN that is every viewer, and the getsockopt
        // per frame was a measurable share of a frame's CPU at 10–200 viewers (a viewer that reads a
        // little behind is rarely found with nothing queued). A link that slows meanwhile queues at
        // most a few frames more, once.
        if (Environment.TickCount64 < _drainedUntil)
        {
            return true;
        }
        if (!Measure(out sample) || sample.Queued <= Allowed(sample.Rate))
        {
            if (sample.Queued == 0 || sample.Queued + SkipFrames * _lastWrite <= Allowed(sample.Rate))
            {
                _drainedUntil = Environment.TickCount64 + DrainedSkipMs;
            }
            return true;
        }
        return false;
    }

    /// <summary>
    /// Reads, and measures the rate from what was acknowledged since the last look when bytes were
    /// queued at both looks (the link, not this sender, set the pace in between). The kernel's own
    /// rate is no good alone: it ignores slower samples while the sender is application-limited, which
    /// a gated viewer mostly is, so after a first burst through tbf it stayed at megabytes a second on
    /// a 20 KB/s link (measured here) and nothing was gated. Called by the viewer's loop only.
    /// </summary>
    private bool Measure(out Sample sample)
    {
        if (!TryRead(out sample))
        {
            return false;
        }
        var now = Environment.TickCount64;
        var elapsed = now - _lastTicks;
        if (_lastQueued > 0 && sample.Queued > 0 && elapsed >= 50 && sample.Acked >= _lastAcked)
        {
            var measured = (sample.Acked - _lastAcked) * 1000.0 / elapsed;
            _measured = _measured == 0 ? measured : 0.7 * _measured + 0.3 * measured;
        }
        else if (sample.Queued == 0)
        {
            // Everything drained before the viewer came back for more: the link outpaces this viewer's
            // frames, so a rate measured while it lagged (a reader stalled for a moment) no longer holds.
            _measured = 0;
        }
        if (_measured > 0)
        {
            sample = sample with { Rate = sample.Rate > 0 ? Math.Min(sample.Rate, _measured) : _measured };
        }
        if (elapsed >= 50 || sample.Queued == 0 || _lastQueued == 0)
        {
            (_lastAcked, _lastQueued, _lastTicks) = (sample.Acked, sample.Queued, now);
        }
        Rate = sample.Rate;
        return true;
    }

    private static long Allowed(double rate) => Math.Max(MinAllowed, (long)(rate * Budget.TotalSeconds));

    private async ValueTask WaitSlowAsync(Sample sample, CancellationToken cancellation)
    {
        while (true)
        {
            // Sleep about as long as the excess takes at the known rate, but look at least every 25 ms:
            // the rate may be stale (a fast viewer whose reader stalled), and a fast viewer must not
            // miss frames to a long sleep. Only viewers that really lag wake this often.
            var excess = sample.Queued - Allowed(sample.Rate);
            var ms = sample.Rate > 0 ? excess * 1000 / sample.Rate : 10;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(ms, 2, 25)), cancellation).ConfigureAwait(false);
            if (!Measure(out sample) || sample.Queued <= Allowed(sample.Rate))
            {
                return;
            }
        }
    }
}
