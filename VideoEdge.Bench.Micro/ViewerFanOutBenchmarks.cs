using BenchmarkDotNet.Attributes;
using VideoEdge.Frames;
using VideoEdge.Hub;
using VideoEdge.Viewers;

namespace VideoEdge.Bench.Micro;

/// <summary>
/// The user-space cost of one frame's fan-out to viewers on plain sockets: each viewer's loop resumes
/// on the publishing thread, leases the frame, frames it, sends it and parks again. The sink takes
/// every message at once without a system call, so what is measured is everything but the sendmsg
/// (about 15–30 µs per viewer for a 720p frame on loopback, the floor's cost). With
/// <see cref="CopyFrame"/> it copies the frame as the kernel's send does, which also evicts each
/// viewer's state from the CPU's caches before its next frame, as on the real path.
/// </summary>
public class ViewerFanOutBenchmarks : FanOutBenchmark
{
    private static readonly AsyncLocal<object?> s_requestScope = new();

    [Params(50, 200)]
    public int Viewers { get; set; }

    [Params(false, true)]
    public bool CopyFrame { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        StartHub(121_000);
        // As under Kestrel, the loops start with request-scoped values in their execution context.
        s_requestScope.Value = new object();
        Loops = [.. Enumerable.Range(0, Viewers).Select(i =>
        {
            var subscription = Hub.Subscribe(new ViewerCounters("bench", $"viewer {i}"), Stop.Token, onlyNewer: true);
            return ViewerLoop.RunAsync(subscription, MjpegFramer.Instance, new TakesAll(CopyFrame), 0, TimeSpan.FromSeconds(10), null, null, Stop.Token);
        })];
        s_requestScope.Value = null;
    }

    [Benchmark]
    public void PublishToAll() => Hub.Publish(Pool.Rent(121_000));

    private sealed class TakesAll(bool copy) : ByteSink
    {
        private static readonly byte[] s_socketBuffer = new byte[256 * 1024];

        public override bool SendsWithoutWaking => true;

        protected override ValueTask WriteAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
        {
            if (copy)
            {
                body.Span.CopyTo(s_socketBuffer);
            }
            return ValueTask.CompletedTask;
        }

        public override void Finish()
        {
        }

        public override void Abort()
        {
        }
    }
}
