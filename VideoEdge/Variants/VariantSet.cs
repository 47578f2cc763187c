using Microsoft.Extensions.Logging;
using VideoEdge.Cameras;

namespace VideoEdge.Variants;

/// <summary>
/// The variants of one camera that someone is using right now (?width=, ?quality= on /stream.mjpg,
/// /ws and /snapshot.jpg). A variant is made when its first viewer or snapshot arrives and dropped
/// when its last one leaves, so nothing is decoded or encoded for a variant nobody watches.
/// </summary>
public sealed class VariantSet(Camera camera, ILoggerFactory loggerFactory)
{
    /// <summary>How long a joining viewer waits for the variant to catch up with the camera's latest frame.</summary>
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(2);

    private readonly ILogger _logger = loggerFactory.CreateLogger("VideoEdge.Variants");
    private readonly Lock _lock = new();
    private readonly Dictionary<VariantKey, Variant> _active = [];
    private long _created;
    private long _encodesOfDropped;

    /// <summary>Variants in use now.</summary>
    public IReadOnlyList<Variant> Active
    {
        get
        {
            lock (_lock)
            {
                return [.. _active.Values];
            }
        }
    }

    /// <summary>Variants made since start (each time one is needed again after being dropped counts).</summary>
    public long Created => Interlocked.Read(ref _created);

    /// <summary>Frames encoded for variants since start, dropped ones included: a counter that never goes back.</summary>
    public long EncodesTotal
    {
        get
        {
            lock (_lock)
            {
                return _encodesOfDropped + _active.Values.Sum(v => v.Encodes);
            }
        }
    }

    /// <summary>
    /// A lease on the <paramref name="key"/> variant, made if nobody uses it yet; its <see cref="Lease.View"/>
    /// is the camera to hand to an endpoint. A snapshot lease asks for frames while held (a stream's
    /// viewers ask by taking them). Dispose the lease when the request ends.
    /// </summary>
    public async Task<Lease> AcquireAsync(VariantKey key, bool snapshot, CancellationToken cancellation)
    {
        Variant? variant;
        var made = false;
        lock (_lock)
        {
            if (!_active.TryGetValue(key, out variant))
            {
                variant = new Variant(camera, key, _logger);
                _active.Add(key, variant);
                made = true;
                _created++;
            }
            variant.Leases++;
        }
        if (made)
        {
            variant.Start();
        }
        var lease = new Lease(this, variant, snapshot);
        try
        {
            await variant.CatchUpAsync(CatchUpTimeout, cancellation).ConfigureAwait(false);
        }
        catch
        {
            await lease.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return lease;
    }

    private async ValueTask ReleaseAsync(Variant variant)
    {
        lock (_lock)
        {
            if (--variant.Leases > 0)
            {
                return;
            }
            _active.Remove(variant.Key);
        }
        await variant.StopAsync().ConfigureAwait(false);
        lock (_lock)
        {
            _encodesOfDropped += variant.Encodes;
        }
    }

    /// <summary>Stops every variant (the camera is closing).</summary>
    public async Task StopAllAsync()
    {
        Variant[] all;
        lock (_lock)
        {
            all = [.. _active.Values];
            _active.Clear();
        }
        foreach (var variant in all)
        {
            await variant.StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One request's use of a variant; given back exactly once.</summary>
    public sealed class Lease : IAsyncDisposable
    {
        private VariantSet? _owner;
        private readonly bool _snapshot;

        internal Lease(VariantSet owner, Variant variant, bool snapshot)
        {
            _owner = owner;
            Variant = variant;
            _snapshot = snapshot;
            if (snapshot)
            {
                variant.HoldWanting(true);
            }
        }

        public Variant Variant { get; }

        /// <summary>The camera as the variant's viewers see it: hand this to the endpoint.</summary>
        public Camera View => Variant.View;

        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _owner, null) is not { } owner)
            {
                return ValueTask.CompletedTask;
            }
            if (_snapshot)
            {
                Variant.HoldWanting(false);
            }
            return owner.ReleaseAsync(Variant);
        }
    }
}
