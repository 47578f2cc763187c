using System.Diagnostics;
using OpenCvSharp;
using OpenCvSharp.Internal.Vectors;
using VideoEdge.Frames;
using VideoEdge.Interop;

namespace VideoEdge.Imaging;

/// <summary>
/// Encodes a BGR image once into a pooled frame. The native output vector and the InputArray
/// wrapper are made once and reused, so an encode allocates no managed memory (Cv2.ImEncode
/// would allocate a new byte[] per frame, a large-object allocation at 720p).
/// </summary>
public sealed class JpegEncoder : IDisposable
{
    private readonly VectorOfByte _output = new();
    private readonly int[] _params;
    private Mat? _boundMat;
    private InputArray? _input;

    public JpegEncoder(int quality)
    {
        OpenCvRuntime.Ensure("JPEG encoding");
        _params = [(int)ImwriteFlags.JpegQuality, quality];
    }

    /// <summary>Total time spent encoding, for /metrics and the benchmark.</summary>
    public TimeSpan LastEncodeTime { get; private set; }

    public Frame Encode(Mat image, FramePool pool)
    {
        var started = Stopwatch.GetTimestamp();
        if (!ReferenceEquals(image, _boundMat))
        {
            _input?.Dispose();
            _input = InputArray.Create(image);
            _boundMat = image;
        }
        if (!OpenCvNative.ImEncode(".jpg", _input!, _output, _params))
        {
            throw new InvalidOperationException("OpenCV could not encode the image as JPEG.");
        }
        Frame frame;
        unsafe
        {
            var encoded = new ReadOnlySpan<byte>((void*)_output.ElemPtr, _output.Size);
            frame = pool.RentCopy(encoded);
        }
        frame.Width = image.Width;
        frame.Height = image.Height;
        LastEncodeTime = Stopwatch.GetElapsedTime(started);
        return frame;
    }

    public void Dispose()
    {
        _input?.Dispose();
        _output.Dispose();
    }
}
