namespace VideoEdge.Frames;

/// <summary>
/// One reference to a published frame, handed out by the hub: the only way to hold a frame outside
/// it. Dispose gives the reference back (exactly once: do not copy a lease and dispose both). An
/// empty lease (<c>default</c>) means "no frame": the wait ended or timed out.
/// </summary>
public readonly struct FrameLease : IDisposable
{
    private readonly Frame? _frame;

    /// <summary>Takes over one reference the caller already added.</summary>
    internal FrameLease(Frame frame) => _frame = frame;

    public bool HasFrame => _frame is not null;

    public Frame Frame => _frame ?? throw new InvalidOperationException("An empty lease holds no frame.");

    public void Dispose() => _frame?.Release();
}
