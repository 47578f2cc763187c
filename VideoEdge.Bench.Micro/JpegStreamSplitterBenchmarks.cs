using BenchmarkDotNet.Attributes;
using VideoEdge.Imaging;
using VideoEdge.Sources;

namespace VideoEdge.Bench.Micro;

/// <summary>
/// The exec: source's per-frame work: finding whole JPEGs in a program's stdout (header segments
/// walked by length, entropy-coded data scanned for markers, with stuffed FF 00 bytes and restart
/// markers as a real encoder writes them), then the same header check a camera frame gets.
/// </summary>
public class JpegStreamSplitterBenchmarks
{
    private const int Frames = 8;
    private byte[] _stream = [];
    private JpegStreamSplitter _splitter = null!;

    [GlobalSetup]
    public void Setup()
    {
        var frame = JpegDhtBenchmarks.SyntheticJpeg(121_000, withTables: true, stuffed: true);
        _stream = new byte[frame.Length * Frames];
        for (var i = 0; i < Frames; i++)
        {
            frame.CopyTo(_stream, i * frame.Length);
        }
        _splitter = new JpegStreamSplitter(1 << 20);
    }

    /// <summary>Eight 121 KB frames fed in 64 KB reads; returns the frames found (all of them).</summary>
    [Benchmark(OperationsPerInvoke = Frames)]
    public int SplitAndInspect()
    {
        var found = 0;
        var offset = 0;
        while (true)
        {
            var status = _splitter.TryReadFrame(out var jpeg);
            if (status == JpegSplitStatus.Frame)
            {
                found += JpegDht.Inspect(jpeg, out _, out _) == JpegCheck.Complete ? 1 : 0;
                continue;
            }
            if (offset == _stream.Length)
            {
                return found;
            }
            var memory = _splitter.GetWriteMemory().Span;
            var n = Math.Min(memory.Length, Math.Min(64 * 1024, _stream.Length - offset));
            _stream.AsSpan(offset, n).CopyTo(memory);
            _splitter.Advance(n);
            offset += n;
        }
    }
}
