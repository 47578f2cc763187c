using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using VideoEdge.Frames;
using VideoEdge.Interop;
using VideoEdge.Viewers;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Core;

/// <summary>
/// A frame that goes to many sockets is sent from the hub's file copy (sendfile, by reference to the
/// file's pages). A socket may still hold those pages long after the frame went back to the pool and
/// its slot took another frame: what the viewer reads must be the frame that was sent, byte for byte.
/// </summary>
public sealed partial class FrameFileTests
{
    [Fact]
    public async Task Bytes_queued_in_a_socket_stay_the_frame_sent_after_its_slot_holds_the_next_frame()
    {
        using var pair = await LoopbackPair.ConnectAsync();
        var (receiver, sender) = (pair.Client, pair.Server);
        receiver.ReceiveBufferSize = 1 << 20;
        sender.SendBufferSize = 1 << 20;
        sender.Blocking = false;

        var pool = new FramePool();
        var file = FrameFile.TryCreate();
        Assert.NotNull(file);
        var first = Filled(pool, 100_000, 'A');
        Assert.True(file.TryCopy(first, HeadTail));
        Assert.True(first.TryGetFileCopy(out var copy));
        Assert.Equal("head", Encoding.ASCII.GetString(copy.Head.Span));
        // The frame on a page of its own, its head just before: a viewer that sends its own head sends
        // whole pages (mid-page, a WebSocket viewer's send stalled on loopback: FrameFile.HeadRoom).
        Assert.Equal(0, copy.Offset % Environment.SystemPageSize);
        var expected = "head"u8.ToArray().Concat(first.Span.ToArray()).Concat("tail"u8.ToArray()).ToArray();
        // The whole part from the file: head, frame and tail in one sendfile.
        Assert.Equal(expected.Length, Libc.SendNowFromFile(sender.SafeHandle, "head"u8, first.Span, "tail"u8, copy.File, copy.Offset, headInFile: true, tailInFile: true));

        // Nothing read yet: the socket's queue points at the slot's pages. The frame goes back to the
        // pool, and the next frame is copied into the same slot.
        first.Release();
        var second = Filled(pool, 100_000, 'B');
        Assert.True(file.TryCopy(second, HeadTail));
        Assert.True(second.TryGetFileCopy(out var secondCopy));
        Assert.Equal(copy.Offset, secondCopy.Offset);

        var received = new byte[expected.Length];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (read < received.Length)
        {
            read += await receiver.ReceiveAsync(received.AsMemory(read), SocketFlags.None, timeout.Token);
        }
        Assert.True(expected.AsSpan().SequenceEqual(received), "the bytes in flight changed when the slot took the next frame");

        // A viewer framed otherwise sends its own head and tail around the file's frame.
        Assert.Equal(2 + second.Length + 2, Libc.SendNowFromFile(sender.SafeHandle, "<<"u8, second.Span, ">>"u8, copy.File, secondCopy.Offset, headInFile: false, tailInFile: false));
        read = 0;
        while (read < second.Length + 4)
        {
            read += await receiver.ReceiveAsync(received.AsMemory(read, second.Length + 4 - read), SocketFlags.None, timeout.Token);
        }
        Assert.Equal("<<"u8.ToArray().Concat(second.Span.ToArray()).Concat(">>"u8.ToArray()), received.Take(second.Length + 4));
        second.Release();
        Assert.Equal(0, pool.Outstanding);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task Where_the_kernel_refuses_sendfile_the_frames_own_bytes_go(bool headInFile, bool tailInFile)
    {
        using var pair = await LoopbackPair.ConnectAsync();
        var (receiver, sender) = (pair.Client, pair.Server);
        sender.Blocking = false;
        // A socket is no file sendfile can read from (EINVAL): it stands for any refusal.
        using var notAFile = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var body = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();

        Assert.Equal(4 + body.Length + 4, Libc.SendNowFromFile(sender.SafeHandle, "head"u8, body, "tail"u8, notAFile.SafeHandle, 4, headInFile, tailInFile));
        var received = new byte[4 + body.Length + 4];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (read < received.Length)
        {
            read += await receiver.ReceiveAsync(received.AsMemory(read), SocketFlags.None, timeout.Token);
        }
        Assert.Equal("head"u8.ToArray().Concat(body).Concat("tail"u8.ToArray()), received);
    }

    /// <summary>
    /// A socket that fills up in the middle of a frame sends at once all it took. The head goes with
    /// "more follows", as does each sendfile round but the last; held back when the socket then fills,
    /// those bytes wait for a ~200 ms timer (on loopback, where a segment holds 64 KB, they can be all
    /// of them), and the viewer gets 5 frames a second (measured in the bench, 50 WebSocket viewers).
    /// </summary>
    [Fact]
    public async Task A_socket_that_fills_up_in_the_middle_of_a_frame_sends_what_it_took_at_once()
    {
        using var pair = await LoopbackPair.ConnectAsync();
        var (receiver, sender) = (pair.Client, pair.Server);
        receiver.ReceiveBufferSize = 4 << 20;
        // Traffic first, so that the receiver's window has grown past a frame: bytes left unsent are
        // then held back by the sender, not by the window.
        var warmUp = new byte[4 << 20];
        var drained = DrainAsync(receiver, warmUp.Length);
        await sender.SendAsync(warmUp);
        await drained;
        // As the server bounds every viewer (ViewerRequest.LimitSendBuffer): the socket takes more only once its unsent bytes are few.
        TcpOptions.SetNotSentLowWater(sender, 16 << 10);
        sender.Blocking = false;

        var pool = new FramePool();
        var file = FrameFile.TryCreate();
        Assert.NotNull(file);
        var frame = Filled(pool, 400_000, 'C');
        Assert.True(file.TryCopy(frame, HeadTail));
        Assert.True(frame.TryGetFileCopy(out var copy));
        // A WebSocket viewer's head, then bytes from the file starting mid-page: the first sendfile
        // round (16 pages, 65,280 bytes from there) and the head stay under one loopback segment
        // (65,483 bytes), all held back, so the socket counts as full and takes only part of them.
        var body = frame.Span[256..];
        var sent = Libc.SendNowFromFile(sender.SafeHandle, "<<"u8, body, default, copy.File, copy.Offset + 256, headInFile: false, tailInFile: false);
        Assert.InRange(sent, 3, 2 + body.Length - 1);
        Assert.Equal(0, UnsentBytes(sender));
        await DrainAsync(receiver, (int)sent);
        frame.Release();
        Assert.Equal(0, pool.Outstanding);
    }

    private static async Task DrainAsync(Socket receiver, int count)
    {
        var buffer = new byte[64 << 10];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        for (var read = 0; read < count;)
        {
            read += await receiver.ReceiveAsync(buffer.AsMemory(0, Math.Min(buffer.Length, count - read)), SocketFlags.None, timeout.Token);
        }
    }

    /// <summary>Bytes in the socket's queue not yet sent (SIOCOUTQNSD, linux/sockios.h).</summary>
    private static int UnsentBytes(Socket socket)
    {
        Assert.Equal(0, Ioctl((int)socket.Handle, 0x894B, out var unsent));
        return unsent;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "ioctl")]
    private static partial int Ioctl(int fd, nuint request, out int value);

    private static readonly IFramer HeadTail = new HeadTailFramer();

    /// <summary>Writes "head" before each copy and "tail" after it.</summary>
    private sealed class HeadTailFramer : IFramer
    {
        public int MaxHeadBytes => 4;

        public int WriteHead(Frame frame, Span<byte> destination) => Encoding.ASCII.GetBytes("head", destination);

        public ReadOnlyMemory<byte> Tail => "tail"u8.ToArray();
    }

    private static Frame Filled(FramePool pool, int length, char letter)
    {
        var frame = pool.Rent(length);
        var span = frame.WritableSpan;
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (byte)(i % 7 == 0 ? '\n' : letter);
        }
        return frame;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Many_viewers_and_a_slow_one_get_the_same_whole_pictures_from_the_file_copy(bool mostlyWebSocket)
    {
        // The file copy is framed as most of the viewers frame it: those viewers send their whole
        // message from the file; the others on the same hub send their own head (and tail) around the
        // file's frame, and must not get the majority's framing.
        var mjpegViewers = mostlyWebSocket ? 4 : FrameFile.MinViewers + 4;
        var webSocketViewers = mostlyWebSocket ? FrameFile.MinViewers + 4 : 4;
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "640x480", "--max-clients-per-ip", "64");
        await server.WaitForFramesAsync(2);
        var clients = new List<MjpegClient>();
        var sockets = new List<WebSocketViewer>();
        for (var i = 0; i < mjpegViewers; i++)
        {
            clients.Add(await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg"));
        }
        for (var i = 0; i < webSocketViewers; i++)
        {
            // Two with the meta message before each frame (its sequence lets the pictures be compared).
            sockets.Add(await WebSocketViewer.ConnectAsync(new Uri(server.WebSocketBase, i < 2 ? "/ws?meta=1" : "/ws")));
        }
        try
        {
            // The slow one reads a picture every 400 ms: what it reads was queued frames ago, from
            // slots other frames have taken since.
            var reads = clients.Select((client, i) => ReadAsync(client, parts: i == 0 ? 8 : 30, pause: i == 0 ? 400 : 0))
                .Concat(sockets.Select(socket => ReadAsync(socket, frames: 30))).ToList();
            var all = await Task.WhenAll(reads).WaitAsync(TimeSpan.FromSeconds(60));

            using (var latest = server.Camera.Hub.AcquireLatest())
            {
                Assert.True(latest.Frame.TryGetFileCopy(out var copy), "frames to this many viewers should go from the file copy");
                // A WebSocket binary message's header (final, opcode 2), or an MJPEG part's head.
                Assert.Equal(mostlyWebSocket ? 0x82 : (byte)'C', copy.Head.Span[0]);
                Assert.Equal(mostlyWebSocket ? 0 : MjpegFramer.Instance.Tail.Length, copy.Trailer.Length);
            }
            var bySequence = new Dictionary<long, string>();
            foreach (var (sequence, hash, whole) in all.SelectMany(x => x))
            {
                Assert.True(whole, $"frame {sequence} is not a whole JPEG");
                if (sequence > 0 && !bySequence.TryAdd(sequence, hash))
                {
                    Assert.True(bySequence[sequence] == hash, $"viewers got different bytes for frame {sequence}");
                }
            }
            Assert.True(all[0].Select(x => x.Sequence).Intersect(all.Skip(1).SelectMany(x => x).Select(x => x.Sequence)).Any(),
                "the slow viewer's pictures should be ones the others got too");
            Assert.True(all[mjpegViewers].Select(x => x.Sequence).Intersect(all[1].Select(x => x.Sequence)).Any(),
                "a WebSocket viewer's pictures should be ones the MJPEG viewers got too");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    /// <summary>Frames as a WebSocket viewer gets them: sequence 0 where it has no meta message.</summary>
    private static async Task<List<(long Sequence, string Hash, bool Whole)>> ReadAsync(WebSocketViewer socket, int frames)
    {
        var seen = new List<(long, string, bool)>();
        for (var i = 0; i < frames; i++)
        {
            var frame = await socket.ReadFrameAsync() ?? throw new InvalidOperationException("the server closed the WebSocket");
            seen.Add((frame.Sequence ?? 0, Convert.ToHexString(SHA256.HashData(frame.Jpeg)), Jpeg.HasMarkers(frame.Jpeg) && Jpeg.Decode(frame.Jpeg) == (640, 480)));
        }
        return seen;
    }

    private static async Task<List<(long Sequence, string Hash, bool Whole)>> ReadAsync(MjpegClient client, int parts, int pause)
    {
        var seen = new List<(long, string, bool)>();
        for (var i = 0; i < parts; i++)
        {
            var part = await client.ReadPartAsync();
            seen.Add((part.Sequence, Convert.ToHexString(SHA256.HashData(part.Body)), Jpeg.HasMarkers(part.Body) && Jpeg.Decode(part.Body) == (640, 480)));
            if (pause > 0)
            {
                await Task.Delay(pause);
            }
        }
        return seen;
    }
}
