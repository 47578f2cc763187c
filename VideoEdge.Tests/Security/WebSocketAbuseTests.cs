using System.Diagnostics;
using System.Net;
using System.Text;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>
/// What a WebSocket viewer may send: small messages, pings and pongs are ignored, a close ends the
/// stream politely, and anything invalid, oversized or flooding ends only that viewer's connection.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class WebSocketAbuseTests(ITestOutputHelper output)
{
    private static byte[] Frame(int opcode, int size, bool fin = true, bool mask = true, int rsv = 0, long? declared = null) =>
        RawConnection.WebSocketFrame(opcode, new byte[size], fin, mask, rsv, declared);

    private static byte[] Text(string text, bool fin = true) => RawConnection.WebSocketFrame(1, Encoding.UTF8.GetBytes(text), fin);

    private static byte[] Concat(IEnumerable<byte[]> frames) => [.. frames.SelectMany(f => f)];

    private static readonly Dictionary<string, byte[]> s_abusive = new()
    {
        // .NET waits for the 6 bytes a masked frame header would have before judging the mask bit, so the payload is not tiny.
        ["unmasked frame"] = RawConnection.WebSocketFrame(1, "not masked at all"u8, mask: false),
        ["reserved bit without an extension"] = RawConnection.WebSocketFrame(1, "hi"u8, rsv: 4),
        ["unknown opcode"] = Frame(3, 4),
        ["fragmented ping"] = Frame(9, 4, fin: false),
        ["ping over 125 bytes"] = Frame(9, 200),
        ["continuation without a start"] = Frame(0, 4),
        ["binary message over 4 KB"] = Frame(2, 5000),
        ["message over 4 KB in fragments"] = Concat(Enumerable.Range(0, 10).Select(i => Frame(i == 0 ? 2 : 0, 500, fin: i == 9))),
        ["declared length of 2^62"] = [.. Frame(2, 0, declared: 1L << 62), .. new byte[10_000]],
        ["flood of 200 small messages"] = Concat(Enumerable.Range(0, 200).Select(_ => Text("x"))),
        ["invalid UTF-8 in a text message"] = RawConnection.WebSocketFrame(1, [0xC3, 0x28, 0xA0, 0xA1]),
        ["close frame with a 1-byte reason"] = Frame(8, 1),
        ["garbage"] = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    };

    [Fact]
    public async Task Each_abusive_frame_closes_only_its_own_connection_quickly()
    {
        await using var watched = await WatchedServer.StartAsync();
        var uri = watched.Uri;
        var slowest = TimeSpan.Zero;
        var kept = new List<string>();
        foreach (var (name, bytes) in s_abusive)
        {
            await using var ws = await RawConnection.ConnectAsync(uri, IPAddress.Parse("127.0.0.60"));
            Assert.Equal(101, (await ws.WebSocketHandshakeAsync("/ws")).Status);
            Assert.NotNull(await ws.ReadWebSocketJpegAsync());
            var clock = Stopwatch.StartNew();
            await ws.SendAsync(bytes);
            if (!await ws.WaitForServerCloseAsync(TimeSpan.FromSeconds(3)))
            {
                kept.Add(name);
            }
            slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
        }
        Assert.True(kept.Count == 0, "the server kept these connections open: " + string.Join(", ", kept));
        output.WriteLine($"{s_abusive.Count} abusive WebSocket inputs, each connection closed within {slowest.TotalMilliseconds:0} ms");
        await watched.AssertUndisturbedAsync(output);
    }

    [Fact]
    public async Task Small_messages_pings_and_pongs_are_ignored_and_a_close_is_answered()
    {
        await using var watched = await WatchedServer.StartAsync();
        await using var ws = await RawConnection.ConnectAsync(watched.Uri);
        Assert.Equal(101, (await ws.WebSocketHandshakeAsync("/ws")).Status);
        Assert.NotNull(await ws.ReadWebSocketJpegAsync());
        byte[][] harmless =
        [
            RawConnection.WebSocketFrame(9, "are you there"u8),
            RawConnection.WebSocketFrame(10, "unsolicited pong"u8),
            Text("hello"),
            Frame(2, 100),
            Concat([Text("frag", fin: false), RawConnection.WebSocketFrame(0, "mented"u8)]),
            Frame(2, 4000),
        ];
        foreach (var frame in harmless)
        {
            await ws.SendAsync(frame);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            for (var i = 0; i < 3; i++)
            {
                Assert.NotNull(await ws.ReadWebSocketJpegAsync(timeout.Token));
            }
        }

        // A proper close: the server answers with its own close frame, then ends the connection.
        await ws.SendAsync(RawConnection.WebSocketFrame(8, [0x03, 0xE8]));
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
        {
            int opcode;
            byte[] payload;
            do
            {
                (opcode, _, payload) = await ws.ReadWebSocketFrameAsync(timeout.Token);
            }
            while (opcode != 8);
            Assert.Equal(1000, (payload[0] << 8) | payload[1]);
        }
        Assert.True(await ws.WaitForServerCloseAsync(TimeSpan.FromSeconds(3)));
        await watched.AssertUndisturbedAsync(output);
    }
}
