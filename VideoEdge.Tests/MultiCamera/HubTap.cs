using System.Collections.Concurrent;
using System.Security.Cryptography;
using VideoEdge.Cameras;
using VideoEdge.Hub;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>
/// Records what one camera's hub published (sequence → SHA-256 of the bytes), from inside the
/// server process, so a test can tell whose frame a viewer received.
/// </summary>
internal sealed class HubTap : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public HubTap(Camera camera)
    {
        var waiter = camera.Hub.Subscribe(new ClientInfo("test-tap", "in-process"), _stop.Token);
        _loop = RunAsync(camera, waiter);
    }

    public ConcurrentDictionary<long, string> Hashes { get; } = new();

    private async Task RunAsync(Camera camera, FrameWaiter waiter)
    {
        using var _ = waiter;
        long last = 0;
        while (await waiter.WaitNewerAsync(last))
        {
            var frame = camera.Hub.AcquireLatest();
            if (frame is null)
            {
                continue;
            }
            Hashes[frame.Sequence] = Hash(frame.Span);
            last = frame.Sequence;
            frame.Release();
        }
    }

    public static string Hash(ReadOnlySpan<byte> data) => Convert.ToHexString(SHA256.HashData(data));

    public static string Hash(byte[] data) => Hash(data.AsSpan());

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
