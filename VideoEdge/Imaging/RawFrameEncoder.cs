using OpenCvSharp;
using VideoEdge.Frames;
using VideoEdge.Interop;

namespace VideoEdge.Imaging;

/// <summary>Uncompressed camera layouts we can turn into JPEG.</summary>
public enum RawPixelLayout
{
    /// <summary>Packed 4:2:2, Y0 U Y1 V.</summary>
    Yuyv,

    /// <summary>Planar Y then interleaved UV at half resolution.</summary>
    Nv12,
}

/// <summary>
/// Converts raw camera buffers to BGR and encodes them once into a pooled frame. The camera's
/// buffers are wrapped in place (no copy) by one Mat header each, made once per stream, and the
/// OpenCV array wrappers are reused, so a frame allocates no managed memory.
/// </summary>
public sealed class RawFrameEncoder : IDisposable
{
    private readonly Mat[] _sources;
    private readonly InputArray[] _inputs;
    private readonly Mat _bgr;
    private readonly OutputArray _output;
    private readonly JpegEncoder _encoder;
    private readonly ColorConversionCodes _conversion;

    public RawFrameEncoder(RawPixelLayout layout, int width, int height, int bytesPerLine, IReadOnlyList<nint> buffers, int quality)
    {
        OpenCvRuntime.Ensure(layout == RawPixelLayout.Yuyv ? "YUYV capture" : "NV12 capture");
        _encoder = new JpegEncoder(quality);
        _conversion = layout == RawPixelLayout.Yuyv ? ColorConversionCodes.YUV2BGR_YUYV : ColorConversionCodes.YUV2BGR_NV12;
        var (rows, type, step) = layout == RawPixelLayout.Yuyv
            ? (height, MatType.CV_8UC2, Math.Max(bytesPerLine, width * 2))
            : (height * 3 / 2, MatType.CV_8UC1, Math.Max(bytesPerLine, width));
        _sources = [.. buffers.Select(b => Mat.FromPixelData(rows, width, type, b, step))];
        _inputs = [.. _sources.Select(InputArray.Create)];
        _bgr = new Mat(height, width, MatType.CV_8UC3);
        _output = OutputArray.Create(_bgr);
    }

    /// <summary>Time the last <see cref="Encode"/> spent in the JPEG encoder.</summary>
    public TimeSpan LastEncodeTime => _encoder.LastEncodeTime;

    /// <summary>Converts and encodes the camera buffer with this index (its bytes must still be dequeued).</summary>
    public Frame Encode(int bufferIndex, FramePool pool)
    {
        OpenCvNative.CvtColor(_inputs[bufferIndex], _output, _conversion);
        return _encoder.Encode(_bgr, pool);
    }

    public void Dispose()
    {
        _output.Dispose();
        _bgr.Dispose();
        foreach (var input in _inputs)
        {
            input.Dispose();
        }
        foreach (var source in _sources)
        {
            source.Dispose();
        }
        _encoder.Dispose();
    }
}
