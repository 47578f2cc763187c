using System.Text;
using VideoEdge.Frames;
using VideoEdge.Hub;
using VideoEdge.Tests.Infrastructure;
using VideoEdge.Tests.Security;

namespace VideoEdge.Tests.Core;

/// <summary>
/// A waiting viewer on a plain socket resumes on the publishing thread (one non-blocking send, no
/// thread-pool hop); only a send that has to wait, and a viewer's end, leave that thread. Whatever
/// thread a frame goes out on, the viewer gets each picture once, whole, in order.
/// </summary>
public sealed class PublishingThreadSendTests
{
    /// <summary>
    /// Runs <paramref name="action"/> on a thread of its own, as a camera's capture thread publishes;
    /// returns that thread (compared as an object: a finished thread's id may be reused).
    /// </summary>
    private static Thread OnPublishingThread(Action action)
    {
        var thread = new Thread(() => action());
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(10)), "the publishing thread hung");
        return thread;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_waiting_viewer_resumes_on_the_publishing_thread_only_when_asked_and_never_to_end(bool resumeOnPublisher)
    {
        var pool = new FramePool();
        var hub = new FrameHub();
        using (var subscription = hub.Subscribe(new ViewerCounters("test", "here"), CancellationToken.None))
        {
            subscription.ResumeOnPublisher = resumeOnPublisher;
            hub.Publish(pool.Rent(10));
            using (var first = await subscription.NextAsync())
            {
                Assert.Equal(1, first.Frame.Sequence);
            }

            // Waiting: the new frame resumes the wait on the publishing thread, or on the thread pool.
            var next = subscription.NextAsync();
            Assert.False(next.IsCompleted);
            var resumed = ResumedOn(next);
            var publisher = OnPublishingThread(() => hub.Publish(pool.Rent(10)));
            var (resumedOn, sequence) = await resumed.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(2, sequence);
            Assert.Equal(resumeOnPublisher, ReferenceEquals(resumedOn, publisher));

            // A viewer busy elsewhere is not resumed; it finds the newest and counts the skipped one.
            hub.Publish(pool.Rent(10));
            hub.Publish(pool.Rent(10));
            using (var newest = await subscription.NextAsync())
            {
                Assert.Equal(4, newest.Frame.Sequence);
                Assert.Equal(1, subscription.Skipped);
            }

            // The viewer leaves while it waits: the wait ends, empty, and not on the thread that ended it.
            next = subscription.NextAsync();
            Assert.False(next.IsCompleted);
            resumed = ResumedOn(next);
            var closer = OnPublishingThread(subscription.Dispose);
            var (endedOn, none) = await resumed.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(0, none);
            Assert.NotSame(closer, endedOn);
        }
        hub.Dispose();
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.Misuse);
    }

    /// <summary>Awaits a pending wait (registering its continuation now); the thread it resumed on and the frame's sequence (0: none).</summary>
    private static async Task<(Thread Thread, long Sequence)> ResumedOn(ValueTask<FrameLease> next)
    {
        // Not resumed through the test framework's context: the thread that completed the wait goes on here.
        using var lease = await next.ConfigureAwait(false);
        return (Thread.CurrentThread, lease.HasFrame ? lease.Frame.Sequence : 0);
    }

    /// <summary>A sink whose socket has gone: every send fails at once, as a reset connection's sendmsg does.</summary>
    private sealed class BrokenSink : VideoEdge.Viewers.ByteSink
    {
        public override bool SendsWithoutWaking => true;

        protected override ValueTask WriteAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
            => throw new IOException("the viewer's connection failed: Connection reset by peer");

        public override void Finish()
        {
        }

        public override void Abort()
        {
        }
    }

    /// <summary>Runs a viewer on a broken sink; how it ended and the thread its caller went on on.</summary>
    private static async Task<(VideoEdge.Viewers.ViewerLoop.End End, Thread Thread)> RunToEnd(Subscription subscription)
    {
        var end = await VideoEdge.Viewers.ViewerLoop.RunAsync(subscription, VideoEdge.Viewers.MjpegFramer.Instance, new BrokenSink(), 0,
            TimeSpan.FromSeconds(10), null, null, CancellationToken.None).ConfigureAwait(false);
        return (end, Thread.CurrentThread);
    }

    [Fact]
    public async Task A_viewer_whose_send_fails_on_the_publishing_thread_ends_on_the_thread_pool()
    {
        var pool = new FramePool();
        var hub = new FrameHub();
        using var subscription = hub.Subscribe(new ViewerCounters("test", "broken"), CancellationToken.None);
        var loop = RunToEnd(subscription);
        Assert.False(loop.IsCompleted);
        var publisher = OnPublishingThread(() => hub.Publish(pool.Rent(10)));
        var (end, endedOn) = await loop.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(VideoEdge.Viewers.ViewerLoop.EndReason.ClientGone, end.Reason);
        Assert.IsType<IOException>(end.Error);
        Assert.NotSame(publisher, endedOn);
        subscription.Dispose();
        hub.Dispose();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task Frames_published_while_the_loop_parks_are_sent_once_each_in_order()
    {
        // Two threads race: the publisher resumes the loop on its own thread while the loop, now and
        // then, goes off to the thread pool (as a send that must wait does) and parks again from there.
        // Each frame must reach the viewer at most once, in order, and none may leak.
        var pool = new FramePool();
        var hub = new FrameHub();
        var seen = new List<long>();
        var onPublisher = 0;
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using (var subscription = hub.Subscribe(new ViewerCounters("test", "race"), cancel.Token))
        {
            subscription.ResumeOnPublisher = true;
            Thread? publisher = null;
            var loop = Task.Run(async () =>
            {
                while (true)
                {
                    using (var lease = await subscription.NextAsync())
                    {
                        if (!lease.HasFrame)
                        {
                            return;
                        }
                        lock (seen)
                        {
                            seen.Add(lease.Frame.Sequence);
                        }
                    }
                    if (ReferenceEquals(Thread.CurrentThread, Volatile.Read(ref publisher)))
                    {
                        Interlocked.Increment(ref onPublisher);
                    }
                    if (Count(seen) % 2 == 0)
                    {
                        await Task.Yield();
                    }
                }
            });
            // Until enough frames went both ways (a loaded machine may starve the loop for a while), bounded.
            OnPublishingThread(() =>
            {
                Volatile.Write(ref publisher, Thread.CurrentThread);
                var publishing = System.Diagnostics.Stopwatch.StartNew();
                for (var i = 0; i < 20000 || (Count(seen) < 1000 && publishing.Elapsed < TimeSpan.FromSeconds(20)); i++)
                {
                    hub.Publish(pool.Rent(10));
                    if (i % 64 == 0)
                    {
                        Thread.Yield();
                    }
                }
            });
            await Task.Delay(200);
            subscription.Dispose();
            await loop.WaitAsync(TimeSpan.FromSeconds(30));
        }
        hub.Dispose();
        Assert.True(seen.Count > 100, $"only {seen.Count} frames reached the viewer");
        Assert.True(onPublisher > 0, "the loop never ran on the publishing thread");
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
