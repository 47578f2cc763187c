using System.Net.Sockets;
using System.Security.Cryptography;
using VideoEdge.Frames;
using VideoEdge.Interop;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Core;

/// <summary>
/// A frame that goes to many sockets is sent from the hub's file copy (sendfile, by reference to the
/// file's pages). A socket may still hold those pages long after the frame went back to the pool and
/// its slot took another frame: what the viewer reads must be the frame that was sent, byte for byte.
/// </summary>
public sealed class FrameFileTests
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
        var file = FrameFile.TryCreate("tail"u8.ToArray());
        Assert.NotNull(file);
        var first = Filled(pool, 100_000, 'A');
        Assert.True(file.TryCopy(first));
        Assert.True(first.TryGetFileCopy(out var copy));
        var expected = "head"u8.ToArray().Concat(first.Span.ToArray()).Concat("tail"u8.ToArray()).ToArray();
        Assert.Equal(expected.Length, Libc.SendNowFromFile(sender.SafeHandle, "head"u8, first.Span, "tail"u8, copy.File, copy.Offset, tailInFile: true));

        // Nothing read yet: the socket's queue points at the slot's pages. The frame goes back to the
        // pool, and the next frame is copied into the same slot.
        first.Release();
        var second = Filled(pool, 100_000, 'B');
        Assert.True(file.TryCopy(second));
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

        Assert.Equal(second.Length, Libc.SendNowFromFile(sender.SafeHandle, default, second.Span, default, copy.File, secondCopy.Offset, tailInFile: false));
        read = 0;
        while (read < second.Length)
        {
            read += await receiver.ReceiveAsync(received.AsMemory(read, second.Length - read), SocketFlags.None, timeout.Token);
        }
        Assert.True(second.Span.SequenceEqual(received.AsSpan(0, second.Length)));
        second.Release();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task Where_the_kernel_refuses_sendfile_the_frames_own_bytes_go()
    {
        using var pair = await LoopbackPair.ConnectAsync();
        var (receiver, sender) = (pair.Client, pair.Server);
        sender.Blocking = false;
        // A socket is no file sendfile can read from (EINVAL): it stands for any refusal.
        using var notAFile = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var body = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();

        Assert.Equal(4 + body.Length + 4, Libc.SendNowFromFile(sender.SafeHandle, "head"u8, body, "tail"u8, notAFile.SafeHandle, 0, tailInFile: false));
        var received = new byte[4 + body.Length + 4];
        var read = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (read < received.Length)
        {
            read += await receiver.ReceiveAsync(received.AsMemory(read), SocketFlags.None, timeout.Token);
        }
        Assert.Equal("head"u8.ToArray().Concat(body).Concat("tail"u8.ToArray()), received);
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

    [Fact]
    public async Task Many_viewers_and_a_slow_one_get_the_same_whole_pictures_from_the_file_copy()
    {
        const int Viewers = FrameFile.MinViewers + 4;
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "640x480", "--max-clients-per-ip", "64");
        await server.WaitForFramesAsync(2);
        var clients = new List<MjpegClient>();
        for (var i = 0; i < Viewers; i++)
        {
            clients.Add(await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg"));
        }
        try
        {
            // The slow one reads a picture every 400 ms: what it reads was queued frames ago, from
            // slots other frames have taken since.
            var reads = clients.Select((client, i) => ReadAsync(client, parts: i == 0 ? 8 : 30, pause: i == 0 ? 400 : 0)).ToList();
            var all = await Task.WhenAll(reads).WaitAsync(TimeSpan.FromSeconds(60));

            using (var latest = server.Camera.Hub.AcquireLatest())
            {
                Assert.True(latest.Frame.TryGetFileCopy(out _), "frames to this many viewers should go from the file copy");
            }
            var bySequence = new Dictionary<long, string>();
            foreach (var (sequence, hash, whole) in all.SelectMany(x => x))
            {
                Assert.True(whole, $"frame {sequence} is not a whole JPEG");
                if (!bySequence.TryAdd(sequence, hash))
                {
                    Assert.True(bySequence[sequence] == hash, $"viewers got different bytes for frame {sequence}");
                }
            }
            Assert.True(all[0].Select(x => x.Sequence).Intersect(all.Skip(1).SelectMany(x => x).Select(x => x.Sequence)).Any(),
                "the slow viewer's pictures should be ones the others got too");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
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
