namespace VideoEdge.Hub;

/// <summary>
/// Lets a loop that tells a producer whether anyone watches sleep until the hub's demand changes
/// (or a timeout passes) instead of polling <see cref="FrameHub.HasDemand"/>. Changes that come
/// while the loop is busy are not lost: the next wait returns at once.
/// </summary>
internal sealed class DemandWatch : IDisposable
{
    private readonly FrameHub _hub;
    // Not disposed: the hub may raise the event once more while we unsubscribe, and an
    // undisposed SemaphoreSlim without a wait handle holds nothing.
    private readonly SemaphoreSlim _changed = new(0);
    private readonly Action _onChange;

    public DemandWatch(FrameHub hub)
    {
        _hub = hub;
        _onChange = () => _changed.Release();
        hub.DemandChanged += _onChange;
    }

    /// <summary>Waits for the next change of demand; false when <paramref name="timeout"/> passed first.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellation) => _changed.WaitAsync(timeout, cancellation);

    public void Dispose() => _hub.DemandChanged -= _onChange;
}
