using System.Buffers;
using BenchmarkDotNet.Attributes;
using VideoEdge.Frames;
using VideoEdge.Streaming;

namespace VideoEdge.Bench.Micro;

/// <summary>
/// One multipart part per viewer per frame: the header formatting, and the whole part copied into
/// a buffer writer the way the MJPEG endpoint hands it to Kestrel's pipe.
/// </summary>
public class MjpegFramingBenchmarks
{
    private readonly ArrayBufferWriter<byte> _writer = new(1 << 20);
    private readonly byte[] _header = new byte[MjpegWriter.MaxHeaderBytes];
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
    public int PartHeader() => MjpegWriter.WritePartHeader(_header, _frame.Length, _frame.TimestampMicros, 123_456);

    [Benchmark]
    public int WholePart()
    {
        _writer.ResetWrittenCount();
        MjpegWriter.WritePart(_writer, _frame);
        return _writer.WrittenCount;
    }
}
