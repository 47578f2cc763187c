using System.Text;
using VideoEdge.Frames;
using VideoEdge.Hub;
using VideoEdge.Tests.Infrastructure;
using VideoEdge.Tests.Security;

namespace VideoEdge.Tests.Core;

/// <summary>
/// A parked viewer is handed each new frame on the publishing thread (one non-blocking send, no
/// wake-up); its loop runs only for frames it could not take whole. Whatever path a frame takes, the
/// viewer gets each picture once, whole, in order.
/// </summary>
public sealed class DirectSendTests
{
    /// <summary>Answers the hub's offers as a test scripts them, and notes where they came from.</summary>
    private sealed class ScriptedReceiver : IDirectReceiver
    {
        public Queue<DirectResult> Answers { get; } = new();
        public List<(long Sequence, long Skipped, int Thread)> Offers { get; } = [];
        public Action? During { get; set; }

        public DirectResult TrySend(Frame frame, long skipped)
        {
            Offers.Add((frame.Sequence, skipped, Environment.CurrentManagedThreadId));
            During?.Invoke();
            return Answers.Dequeue();
        }
    }

    [Fact]
    public async Task Sent_frames_never_wake_the_loop_started_ones_come_back_to_it_and_declined_ones_are_taken_as_usual()
    {
        var pool = new FramePool();
        var hub = new FrameHub();
        var receiver = new ScriptedReceiver();
        using (var subscription = hub.Subscribe(new ViewerCounters("test", "here"), CancellationToken.None))
        {
            subscription.Direct = receiver;
            hub.Publish(pool.Rent(10));
            using (var first = await subscription.NextAsync())
            {
                Assert.Equal(1, first.Frame.Sequence);
            }

            // Parked: frame 2 goes out on this (the publishing) thread and the loop stays asleep.
            var next = subscription.NextAsync();
            Assert.False(next.IsCompleted);
            receiver.Answers.Enqueue(DirectResult.Sent);
            hub.Publish(pool.Rent(10));
            Assert.Equal((2, 0, Environment.CurrentManagedThreadId), receiver.Offers[^1]);
            await Task.Delay(100);
            Assert.False(next.IsCompleted, "a frame sent whole woke the viewer's loop");

            // Frame 3 goes out in part: the loop gets that very frame to finish.
            receiver.Answers.Enqueue(DirectResult.Started);
            var third = pool.Rent(10);
            hub.Publish(third);
            using (var started = await next.AsTask().WaitAsync(TimeSpan.FromSeconds(5)))
            {
                Assert.Same(third, started.Frame);
                Assert.Equal(0, subscription.Skipped);
            }

            // Frame 4 is declined (no room): the loop wakes and leases the latest itself.
            next = subscription.NextAsync();
            receiver.Answers.Enqueue(DirectResult.Declined);
            hub.Publish(pool.Rent(10));
            using (var declined = await next.AsTask().WaitAsync(TimeSpan.FromSeconds(5)))
            {
                Assert.Equal(4, declined.Frame.Sequence);
            }

            // Not parked (the loop is busy elsewhere): no offers; the loop finds the newest and counts the skipped one.
            var offers = receiver.Offers.Count;
            hub.Publish(pool.Rent(10));
            hub.Publish(pool.Rent(10));
            Assert.Equal(offers, receiver.Offers.Count);
            using (var newest = await subscription.NextAsync())
            {
                Assert.Equal(6, newest.Frame.Sequence);
                Assert.Equal(1, subscription.Skipped);
            }

            // Parked again: frames sent one after another skip nothing, and the loop sleeps through them.
            next = subscription.NextAsync();
            receiver.Answers.Enqueue(DirectResult.Sent);
            receiver.Answers.Enqueue(DirectResult.Sent);
            hub.Publish(pool.Rent(10));
            hub.Publish(pool.Rent(10));
            Assert.Equal([(7L, 0L), (8L, 0L)], receiver.Offers.TakeLast(2).Select(o => (o.Sequence, o.Skipped)));
            Assert.False(next.IsCompleted);

            // The viewer leaves while a frame is being sent to it: its wait ends, empty.
            receiver.Answers.Enqueue(DirectResult.Sent);
            receiver.During = subscription.Dispose;
            hub.Publish(pool.Rent(10));
            using var ended = await next.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.False(ended.HasFrame);
        }
        hub.Dispose();
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.Misuse);
    }

    [Fact]
    public async Task Frames_published_while_the_loop_parks_are_sent_once_each_in_order()
    {
        // Two threads race: the publisher offers frames while the loop keeps parking and waking. Each
        // frame must reach the viewer exactly once (directly or through its loop), never twice.
        var pool = new FramePool();
        var hub = new FrameHub();
        var seen = new List<long>();
        var receiver = new RacingReceiver(seen);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using (var subscription = hub.Subscribe(new ViewerCounters("test", "race"), cancel.Token))
        {
            subscription.Direct = receiver;
            var loop = Task.Run(async () =>
            {
                while (true)
                {
                    using var lease = await subscription.NextAsync();
                    if (!lease.HasFrame)
                    {
                        return;
                    }
                    lock (seen)
                    {
                        seen.Add(lease.Frame.Sequence);
                    }
                }
            });
            // Until enough frames went both ways (a loaded machine may starve the loop for a while), bounded.
            var publishing = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < 20000 || (Count(seen) < 1000 && publishing.Elapsed < TimeSpan.FromSeconds(20)); i++)
            {
                hub.Publish(pool.Rent(10));
                if (i % 64 == 0)
                {
                    Thread.Yield();
                }
            }
            await Task.Delay(200);
            subscription.Dispose();
            await loop.WaitAsync(TimeSpan.FromSeconds(30));
        }
        hub.Dispose();
        Assert.True(seen.Count > 100, $"only {seen.Count} frames reached the viewer");
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i] > seen[i - 1], $"frame {seen[i]} came after {seen[i - 1]}");
        }
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.Misuse);
    }

    private static int Count(List<long> seen)
    {
        lock (seen)
        {
            return seen.Count;
        }
    }

    /// <summary>Takes every other frame directly and declines the rest, so both paths interleave.</summary>
    private sealed class RacingReceiver(List<long> seen) : IDirectReceiver
    {
        private int _calls;

        public DirectResult TrySend(Frame frame, long skipped)
        {
            if (++_calls % 2 == 0)
            {
                return DirectResult.Declined;
            }
            lock (seen)
            {
                seen.Add(frame.Sequence);
            }
            return DirectResult.Sent;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_viewer_whose_socket_fills_in_the_middle_of_pictures_still_gets_each_one_whole(bool webSocket)
    {
        // A 16 KiB send buffer and a 4 KiB receive buffer against ~60 KB pictures: nearly every frame
        // the publishing thread starts fills the socket part way, and the viewer's loop finishes it.
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "30", "--resolution", "1280x720", "--send-buffer", "16");
        await server.WaitForFramesAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var connection = await RawConnection.ConnectAsync(new Uri(server.BaseUrl), receiveBufferBytes: 4096, cancellation: timeout.Token);
        var pictures = 0;
        var pongs = new List<string>();
        var pinged = -1;
        long lastSequence = 0;
        if (webSocket)
        {
            var head = await connection.WebSocketHandshakeAsync("/ws", cancellation: timeout.Token);
            Assert.Equal(101, head.Status);
        }
        else
        {
            await connection.SendAsync(RawConnection.Get("/stream.mjpg"), timeout.Token);
            Assert.Equal(200, (await connection.ReadHeadAsync(timeout.Token)).Status);
        }
        while (pictures < 30)
        {
            if (webSocket)
            {
                // Pings make the server answer with pongs, which must never land inside a picture. One
                // ping per third picture: reading a pong does not count as a picture, and pinging again
                // for each pong (as this test once did) can pass the server's 50 frames a second
                // while a picture is slow to come, and the server rightly drops such a client.
                if (pictures % 3 == 0 && pinged != pictures)
                {
                    pinged = pictures;
                    await connection.SendAsync(RawConnection.WebSocketFrame(9, Encoding.ASCII.GetBytes($"p{pictures}")), timeout.Token);
                }
                var (opcode, fin, payload) = await connection.ReadWebSocketFrameAsync(timeout.Token);
                if (opcode == 10)
                {
                    pongs.Add(Encoding.ASCII.GetString(payload));
                    continue;
                }
                Assert.Equal(2, opcode);
                Assert.True(fin);
                Assert.True(IsWholeJpeg(payload), $"picture {pictures} is not a whole JPEG ({payload.Length} bytes)");
            }
            else
            {
                // Throws on a part that is not a whole JPEG or a broken boundary.
                var (sequence, _) = await connection.ReadMjpegPartAsync(timeout.Token);
                Assert.True(sequence > lastSequence, $"frame {sequence} after {lastSequence}");
                lastSequence = sequence;
            }
            pictures++;
            // Read slower than the camera sends, so the socket is full when new frames come.
            await Task.Delay(40, timeout.Token);
        }
        if (webSocket)
        {
            Assert.NotEmpty(pongs);
            Assert.All(pongs, p => Assert.StartsWith("p", p));
        }
    }

    [Fact]
    public async Task Many_viewers_reading_at_full_speed_each_get_whole_pictures_in_order()
    {
        // The publishing thread writes to dozens of sockets while their loops wake, lease and finish
        // frames: no picture may be cut, doubled into another or sent twice.
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "30", "--resolution", "1280x720",
            "--max-clients", "100", "--max-clients-per-ip", "0");
        await server.WaitForFramesAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var viewers = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            var connection = await RawConnection.ConnectAsync(new Uri(server.BaseUrl), cancellation: timeout.Token);
            await connection.SendAsync(RawConnection.Get("/stream.mjpg"), timeout.Token);
            Assert.Equal(200, (await connection.ReadHeadAsync(timeout.Token)).Status);
            return connection;
        }));
        try
        {
            await Task.WhenAll(viewers.Select(async connection =>
            {
                long last = 0;
                for (var i = 0; i < 60; i++)
                {
                    var (sequence, _) = await connection.ReadMjpegPartAsync(timeout.Token);
                    Assert.True(sequence > last, $"frame {sequence} after {last}");
                    last = sequence;
                }
            }));
        }
        finally
        {
            foreach (var viewer in viewers)
            {
                await viewer.DisposeAsync();
            }
        }
    }

    private static bool IsWholeJpeg(byte[] data) =>
        data.Length > 4 && data[0] == 0xFF && data[1] == 0xD8 && data[^2] == 0xFF && data[^1] == 0xD9 && Jpeg.HasMarkers(data);
}
