using VideoEdge.Frames;

namespace VideoEdge.Sources;

/// <summary>
/// Where frames are born. Every method is called from the camera's dedicated capture thread and
/// may block. A source hands out JPEG frames rented from the camera's pool, either passed through
/// from the device or encoded once from pixels.
/// </summary>
public interface IFrameSource : IDisposable
{
    /// <summary>Short kind for /api/state: test, file, url, device, v4l2, remote, relay.</summary>
    string Kind { get; }

    /// <summary>
    /// True for sources whose producer is paused while nobody watches (a pushed or bus camera): their
    /// latest frame may then be old, so a snapshot waits for a fresh one instead.
    /// </summary>
    bool PausesWhenUnwatched => false;

    /// <summary>What the user asked for, without secrets (e.g. credentials in a URL).</summary>
    string Description { get; }

    /// <summary>Granted size and rate, known once opened (the configured ones before).</summary>
    int Width { get; }
    int Height { get; }
    double Fps { get; }

    /// <summary>Opens the device, file or stream; throws <see cref="SourceFaultException"/> with a reason.</summary>
    void Open(CancellationToken cancellation);

    /// <summary>
    /// Blocks until the next frame. Returns a frame owned by the caller, or null when a frame was
    /// captured but not worth publishing (nobody watching, a duplicate). Throws
    /// <see cref="SourceFaultException"/> when the source is lost.
    /// </summary>
    Frame? Capture(CancellationToken cancellation);

    /// <summary>Releases the device; the capture loop may Open again later.</summary>
    void Close();

    /// <summary>How long to wait before reopening after the given number of consecutive failures.</summary>
    TimeSpan RetryDelay(int failures);
}

/// <summary>The source cannot deliver frames for a reason the user should read (e.g. "device unplugged").</summary>
public sealed class SourceFaultException(string reason, Exception? inner = null) : Exception(reason, inner)
{
    /// <summary>Faults that will not heal by retrying (a bad path, not a capture device).</summary>
    public bool IsPermanent { get; init; }
}
