using VideoEdge.Tests.Infrastructure;
using VideoEdge.Viewers;

namespace VideoEdge.Tests.Core;

/// <summary>DeliveryRate's readings on a real connection (tcp_info's layout is checked in Interop/LibcStructLayoutTests).</summary>
public sealed class DeliveryRateTests
{
    /// <summary>Bytes written and read on loopback: all acknowledged, none queued, a rate far above any frame's need.</summary>
    [Fact]
    public async Task ALoopbackConnectionDrainsAtOnce()
    {
        using var pair = await LoopbackPair.ConnectAsync();
        var (client, server) = (pair.Client, pair.Server);
        var gauge = DeliveryRate.TryCreate(server);
        Assert.NotNull(gauge);
        var payload = new byte[200_000];
        gauge.Wrote(payload.Length);
        var sending = server.SendAsync(payload);
        var buffer = new byte[65536];
        var read = 0;
        while (read < payload.Length)
        {
            read += await client.ReceiveAsync(buffer);
        }
        await sending;
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await gauge.WaitForRoomAsync(patience.Token);
        Assert.True(gauge.TryRead(out var sample));
        Assert.True(sample.Acked >= payload.Length, $"acked {sample.Acked}");
        Assert.True(sample.Queued <= 4096, $"queued {sample.Queued}");
        Assert.True(sample.Rate > 1_000_000, $"rate {sample.Rate} B/s");
    }
}
