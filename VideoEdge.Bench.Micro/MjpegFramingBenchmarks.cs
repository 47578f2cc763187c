using System.Buffers;
using BenchmarkDotNet.Attributes;
using VideoEdge.Frames;
using VideoEdge.Viewers;

namespace VideoEdge.Bench.Micro;

/// <summary>
/// One multipart part per viewer per frame: the header formatting, and the whole part copied into
/// a buffer writer the way a stream sink hands it to Kestrel's pipe.
/// </summary>
public class MjpegFramingBenchmarks
{
    private readonly ArrayBufferWriter<byte> _writer = new(1 << 20);
    private readonly byte[] _header = new byte[MjpegFramer.MaxHeaderBytes];
    private Frame _frame = null!;

    /// <summary>640x480, 1280x720 and 1920x1080 webcam frames.</summary>
    [Params(45_000, 121_000, 245_000)]
    public int JpegBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _frame = new FramePool().Rent(JpegBytes);
        Random.Shared.NextBytes(_frame.WritableSpan);
        _frame.TimestampMicros = 1_795_530_589_519_533;
    }

    [Benchmark]
    public int PartHeader() => MjpegFramer.WritePartHeader(_header, _frame.Length, _frame.TimestampMicros, 123_456);

    [Benchmark]
    public int WholePart()
    {
        _writer.ResetWrittenCount();
        // What a stream sink (TLS, HTTP/2) hands to Kestrel's pipe: head, the frame, the next boundary.
        var framer = MjpegFramer.Instance;
        var head = _writer.GetSpan(framer.MaxHeadBytes);
        _writer.Advance(framer.WriteHead(_frame, head));
        _writer.Write(_frame.Span);
        _writer.Write(framer.Tail.Span);
        return _writer.WrittenCount;
    }
}
