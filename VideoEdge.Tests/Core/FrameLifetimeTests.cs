using VideoEdge.Frames;
using VideoEdge.Hub;

namespace VideoEdge.Tests.Core;

/// <summary>A frame's buffer returns to the pool exactly once, whatever the threads do.</summary>
public sealed class FrameLifetimeTests
{
    [Fact]
    public void Concurrent_addref_and_release_return_each_buffer_exactly_once()
    {
        var pool = new FramePool();
        const int frames = 2000;
        const int holders = 8;
        Parallel.For(0, frames, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            var frame = pool.Rent(1000);
            for (var i = 0; i < holders; i++)
            {
                frame.AddRef();
            }
            Parallel.For(0, holders, _ => frame.Release());
            frame.Release();
        });
        Assert.Equal(frames, pool.Rented);
        Assert.Equal(frames, pool.Returned);
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.Misuse);
    }

    [Fact]
    public void Releasing_too_often_is_caught_not_returned_twice()
    {
        var pool = new FramePool();
        var frame = pool.Rent(100);
        frame.Release();
        Assert.Throws<InvalidOperationException>(frame.Release);
        Assert.Equal(1, pool.Returned);
        Assert.Equal(1, pool.Misuse);
    }

    [Fact]
    public void Hub_keeps_the_latest_frame_and_a_holder_keeps_an_older_one_valid()
    {
        var pool = new FramePool();
        using var hub = new FrameHub();
        var first = pool.RentCopy([0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9]);
        hub.Publish(first);
        var lease = hub.AcquireLatest();
        var held = lease.Frame;
        Assert.Equal(1, held.Sequence);

        // A newer frame replaces it in the hub while a "client" is still writing the old one.
        hub.Publish(pool.RentCopy([0xFF, 0xD8, 9, 9, 0xFF, 0xD9]));
        Assert.Equal(2, hub.LatestSequence);
        Assert.Equal(0, pool.Returned);
        Assert.Equal(new byte[] { 0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9 }, held.Span.ToArray());
        lease.Dispose();
        Assert.Equal(1, pool.Returned);

        hub.Dispose();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task Waiter_wakes_for_newer_frames_only_and_ends_on_cancel()
    {
        var pool = new FramePool();
        using var hub = new FrameHub();
        using var cancel = new CancellationTokenSource();
        using var waiter = hub.Subscribe(new ViewerCounters("test", "here"), cancel.Token);
        Assert.Equal(1, hub.ViewerCount);

        var pending = waiter.WaitNewerAsync(0).AsTask();
        Assert.False(pending.IsCompleted);
        hub.Publish(pool.Rent(10));
        Assert.True(await pending.WaitAsync(TimeSpan.FromSeconds(5)));

        // Already newer: answered at once, without waiting.
        hub.Publish(pool.Rent(10));
        Assert.True(waiter.WaitNewerAsync(1).IsCompletedSuccessfully);

        var ended = waiter.WaitNewerAsync(2).AsTask();
        cancel.Cancel();
        Assert.False(await ended.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_viewer_arriving_after_the_hub_closed_ends_at_once()
    {
        var pool = new FramePool();
        var hub = new FrameHub();
        hub.Publish(pool.Rent(10));
        hub.Dispose();
        using var waiter = hub.Subscribe(new ViewerCounters("test", "late"), CancellationToken.None);
        Assert.False(await waiter.WaitNewerAsync(0).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, hub.ViewerCount);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task A_subscription_leases_each_newer_frame_and_counts_what_it_skipped()
    {
        var pool = new FramePool();
        using var hub = new FrameHub();
        hub.Publish(pool.Rent(10));
        using var subscription = hub.Subscribe(new ViewerCounters("test", "here"), CancellationToken.None);
        using (var first = await subscription.NextAsync())
        {
            Assert.Equal(1, first.Frame.Sequence);
            Assert.Equal(0, subscription.Skipped);
        }
        hub.Publish(pool.Rent(10));
        hub.Publish(pool.Rent(10));
        hub.Publish(pool.Rent(10));
        using (var latest = await subscription.NextAsync())
        {
            Assert.Equal(4, latest.Frame.Sequence);
            Assert.Equal(2, subscription.Skipped);
        }
        var next = subscription.NextAsync().AsTask();
        Assert.False(next.IsCompleted);
        hub.Dispose();
        Assert.False((await next.WaitAsync(TimeSpan.FromSeconds(5))).HasFrame);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task A_one_off_wait_gets_the_next_frame_without_counting_as_a_viewer_and_times_out_empty()
    {
        var pool = new FramePool();
        using var hub = new FrameHub();
        hub.Publish(pool.Rent(10));
        var waiting = hub.NextAfterAsync(1, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(0, hub.ViewerCount);
        hub.Publish(pool.Rent(10));
        using (var lease = await waiting.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(2, lease.Frame.Sequence);
        }
        // Already there: answered at once.
        using (var lease = await hub.NextAfterAsync(1, TimeSpan.Zero, CancellationToken.None))
        {
            Assert.Equal(2, lease.Frame.Sequence);
        }
        var started = Environment.TickCount64;
        using (var none = await hub.NextAfterAsync(2, TimeSpan.FromMilliseconds(200), CancellationToken.None))
        {
            Assert.False(none.HasFrame);
        }
        Assert.True(Environment.TickCount64 - started >= 150);
        // A camera switched off on demand leaves no latest frame: the wait is for the next publish.
        hub.DropLatest();
        var afterDrop = hub.NextAfterAsync(0, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.False(afterDrop.IsCompleted);
        hub.Publish(pool.Rent(10));
        using (var lease = await afterDrop.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(3, lease.Frame.Sequence);
        }
        hub.Dispose();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void A_published_frame_is_read_only()
    {
        var pool = new FramePool();
        using var hub = new FrameHub();
        var frame = pool.Rent(10);
        frame.WritableSpan.Fill(7);
        frame.TimestampMicros = 5;
        hub.Publish(frame);
        Assert.Throws<InvalidOperationException>(() => frame.TimestampMicros = 6);
        Assert.Throws<InvalidOperationException>(() => frame.IsNoSignal = true);
        Assert.Throws<InvalidOperationException>(() => frame.Width = 1);
        Assert.Throws<InvalidOperationException>(() => frame.WritableSpan.Length);
        Assert.Throws<InvalidOperationException>(() => frame.Truncate(5));
        Assert.Equal(5, frame.TimestampMicros);
        Assert.Equal(10, frame.Length);
    }
}
