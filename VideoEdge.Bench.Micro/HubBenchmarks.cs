using BenchmarkDotNet.Attributes;
using VideoEdge.Frames;
using VideoEdge.Hub;

namespace VideoEdge.Bench.Micro;

/// <summary>The hub's per-frame work on the capture thread and per viewer.</summary>
public class HubBenchmarks
{
    private readonly FramePool _pool = new();
    private readonly FrameHub _hub = new();

    [GlobalSetup]
    public void Setup() => _hub.Publish(_pool.Rent(121_000));

    [GlobalCleanup]
    public void Cleanup() => _hub.Dispose();

    /// <summary>Capture thread, nobody watching: rent a buffer, publish it, the previous frame goes back.</summary>
    [Benchmark]
    public void RentAndPublish() => _hub.Publish(_pool.Rent(121_000));

    /// <summary>A viewer taking and dropping its reference to the latest frame.</summary>
    [Benchmark]
    public long AcquireRelease()
    {
        using var lease = _hub.AcquireLatest();
        return lease.Frame.Sequence;
    }
}

/// <summary>
/// Publish one frame and wait until every viewer loop has woken, taken it and released it: the
/// fan-out cost through the thread pool, per frame.
/// </summary>
public class HubFanOutBenchmarks
{
    private readonly FramePool _pool = new();
    private FrameHub _hub = null!;
    private CancellationTokenSource _stop = null!;
    private readonly ManualResetEventSlim _done = new();
    private Task[] _loops = [];
    private int _pending;

    [Params(1, 50, 200)]
    public int Viewers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _hub = new FrameHub();
        _stop = new CancellationTokenSource();
        _hub.Publish(_pool.Rent(1024));
        _loops = [.. Enumerable.Range(0, Viewers).Select(i => ViewerAsync(new ViewerCounters("bench", $"viewer {i}")))];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop.Cancel();
        _hub.Dispose();
        Task.WaitAll(_loops);
    }

    [Benchmark]
    public void PublishAndWakeAll()
    {
        Volatile.Write(ref _pending, Viewers);
        _done.Reset();
        _hub.Publish(_pool.Rent(1024));
        _done.Wait();
    }

    private async Task ViewerAsync(ViewerCounters client)
    {
        using var subscription = _hub.Subscribe(client, _stop.Token, onlyNewer: true);
        while (true)
        {
            using (var lease = await subscription.NextAsync())
            {
                if (!lease.HasFrame)
                {
                    return;
                }
            }
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _done.Set();
            }
        }
    }
}
