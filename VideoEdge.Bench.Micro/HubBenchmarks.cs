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

/// <summary>A hub with viewers' loops running on it, for the fan-out benchmarks: they set the loops up, this ends them.</summary>
public abstract class FanOutBenchmark
{
    protected FramePool Pool { get; } = new();
    protected FrameHub Hub { get; private set; } = null!;
    protected CancellationTokenSource Stop { get; private set; } = null!;
    protected Task[] Loops { get; set; } = [];

    protected void StartHub(int frameBytes)
    {
        Hub = new FrameHub();
        Stop = new CancellationTokenSource();
        Hub.Publish(Pool.Rent(frameBytes));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Stop.Cancel();
        Hub.Dispose();
        Task.WaitAll(Loops);
    }
}

/// <summary>
/// Publish one frame and wait until every viewer loop has woken, taken it and released it: the
/// fan-out cost through the thread pool, per frame.
/// </summary>
public class HubFanOutBenchmarks : FanOutBenchmark
{
    private readonly ManualResetEventSlim _done = new();
    private int _pending;

    [Params(1, 50, 200)]
    public int Viewers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        StartHub(1024);
        Loops = [.. Enumerable.Range(0, Viewers).Select(i => ViewerAsync(new ViewerCounters("bench", $"viewer {i}")))];
    }

    [Benchmark]
    public void PublishAndWakeAll()
    {
        Volatile.Write(ref _pending, Viewers);
        _done.Reset();
        Hub.Publish(Pool.Rent(1024));
        _done.Wait();
    }

    private async Task ViewerAsync(ViewerCounters client)
    {
        using var subscription = Hub.Subscribe(client, Stop.Token, onlyNewer: true);
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
