using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>A frame as /ws?meta=1 describes it, including whether it is the no-signal picture.</summary>
public sealed record MetaFrame(byte[] Jpeg, long Sequence, bool NoSignal, DateTime ReceivedUtc);

/// <summary>A WebSocket viewer of one camera's /cams/NAME/ws?meta=1 that keeps the per-frame metadata the page uses.</summary>
public sealed class MetaViewer : IAsyncDisposable
{
    private readonly WebSocketViewer _viewer;

    private MetaViewer(WebSocketViewer viewer) => _viewer = viewer;

    public static async Task<MetaViewer> ConnectAsync(Uri baseUri, string camera) =>
        new(await WebSocketViewer.ConnectAsync(new Uri(baseUri, $"/cams/{camera}/ws?meta=1")));

    public async Task<MetaFrame> ReadAsync(CancellationToken cancellation)
    {
        var frame = await _viewer.ReadFrameAsync(cancellation);
        Assert.NotNull(frame);
        Assert.NotNull(frame.Sequence);
        return new MetaFrame(frame.Jpeg, frame.Sequence.Value, frame.NoSignal, DateTime.UtcNow);
    }

    /// <summary>Reads until a frame matches, within <paramref name="seconds"/>.</summary>
    public async Task<MetaFrame> ReadUntilAsync(Func<MetaFrame, bool> match, double seconds)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (true)
        {
            var frame = await ReadAsync(timeout.Token);
            if (match(frame))
            {
                return frame;
            }
        }
    }

    public ValueTask DisposeAsync() => _viewer.DisposeAsync();
}
