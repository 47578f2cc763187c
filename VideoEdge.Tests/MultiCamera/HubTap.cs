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
        _loop = RunAsync(camera.Hub.Subscribe(new ViewerCounters("test-tap", "in-process"), _stop.Token));
    }

    public ConcurrentDictionary<long, string> Hashes { get; } = new();

    private async Task RunAsync(Subscription subscription)
    {
        using var _ = subscription;
        while (true)
        {
            using var lease = await subscription.NextAsync();
            if (!lease.HasFrame)
            {
                return;
            }
            Hashes[lease.Frame.Sequence] = Hash(lease.Frame.Span);
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
