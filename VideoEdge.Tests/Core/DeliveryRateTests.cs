using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VideoEdge.Tests.Fakes;
using VideoEdge.Viewers;

namespace VideoEdge.Tests.Core;

/// <summary>DeliveryRate reads struct tcp_info by offset: those offsets against gcc's linux/tcp.h, and the readings on a real connection.</summary>
public sealed class DeliveryRateTests
{
    [Fact]
    public void TcpInfoOffsetsMatchTheCompiler()
    {
        var source = Path.Combine(Path.GetTempPath(), "videoedge-tcp-info.c");
        File.WriteAllText(source, """
            #include <stdio.h>
            #include <stddef.h>
            #include <linux/tcp.h>
            int main(void) {
                printf("%zu %zu %zu %zu\n", offsetof(struct tcp_info, tcpi_bytes_acked), offsetof(struct tcp_info, tcpi_notsent_bytes),
                    offsetof(struct tcp_info, tcpi_delivery_rate), offsetof(struct tcp_info, tcpi_delivery_rate) + sizeof(((struct tcp_info *)0)->tcpi_delivery_rate));
                return 0;
            }
            """);
        var program = FakeCamera.CompileC(source, "tcp-info", "");
        var psi = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(psi)!;
        var printed = process.StandardOutput.ReadToEnd().Trim().Split(' ').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        process.WaitForExit();
        Assert.Equal([DeliveryRate.BytesAckedOffset, DeliveryRate.NotSentBytesOffset, DeliveryRate.DeliveryRateOffset, DeliveryRate.NeededLength], printed);
    }

    /// <summary>Bytes written and read on loopback: all acknowledged, none queued, a rate far above any frame's need.</summary>
    [Fact]
    public async Task ALoopbackConnectionDrainsAtOnce()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var server = await listener.AcceptAsync();
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
