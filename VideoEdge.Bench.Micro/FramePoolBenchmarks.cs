using BenchmarkDotNet.Attributes;
using VideoEdge.Frames;

namespace VideoEdge.Bench.Micro;

/// <summary>Frame buffers: rent and return, and a rent that copies a camera buffer in (the passthrough path).</summary>
public class FramePoolBenchmarks
{
    private readonly FramePool _pool = new();
    private readonly byte[] _camera = new byte[121_000];

    [Benchmark]
    public void RentRelease() => _pool.Rent(121_000).Release();

    [Benchmark]
    public void RentCopyRelease() => _pool.RentCopy(_camera).Release();
}
