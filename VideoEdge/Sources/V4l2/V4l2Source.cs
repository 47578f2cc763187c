using System.Globalization;
using Microsoft.Extensions.Logging;
using VideoEdge.Frames;
using VideoEdge.Imaging;
using VideoEdge.Interop;
using static VideoEdge.Sources.V4l2.V4l2Constants;

namespace VideoEdge.Sources.V4l2;

/// <summary>
/// A USB (UVC) or other V4L2 camera. MJPEG frames are passed through byte for byte — one copy,
/// from the driver's buffer into a pooled frame, with the standard Huffman tables inserted where
/// the camera left them out — so the common case costs no decode, no encode and no OpenCV.
/// YUYV/NV12 frames are converted and encoded once, and only while someone watches.
/// </summary>
public sealed partial class V4l2Source : IFrameSource
{
    private readonly CaptureContext _context;
    private readonly string _path;
    private readonly ILogger _logger;
    private V4l2Device? _device;
    private V4l2BufferQueue? _buffers;
    private RawFrameEncoder? _encoder;
    private V4l2CaptureFormat? _format;
    private Frame? _previous;
    private int _sameInARow;
    private bool _everOpened;

    public V4l2Source(CaptureContext context, string path)
    {
        _context = context;
        _path = path;
        _logger = context.LoggerFactory.CreateLogger("VideoEdge.V4l2");
    }

    public string Kind => "v4l2";
    public string Description => _path;
    public int Width => _format?.Width ?? _context.Options.Width;
    public int Height => _format?.Height ?? _context.Options.Height;
    public double Fps => _format?.Fps ?? _context.Options.Fps;

    public V4l2Controls Controls { get; } = new();

    public void Open(CancellationToken cancellation)
    {
        var options = _context.Options;
        try
        {
            _device = V4l2Device.Open(_path);
            var info = _device.QueryCapability();
            if (!info.IsVideoCapture || !info.CanStream)
            {
                throw new SourceFaultException(info.IsMultiplanarCapture
                    ? $"not a capture device: {_path} ({info.Card}) only offers multi-planar capture, which is not supported"
                    : $"not a capture device: {_path} ({info.Card}, driver {info.Driver}); see --list-devices")
                { IsPermanent = true };
            }
            var pixelFormat = ChooseFormat(_device.EnumerateFormats(), options.CaptureFormat);
            _buffers = new V4l2BufferQueue(_device);
            var format = _buffers.Negotiate(pixelFormat, options.Width, options.Height, options.Fps);
            if (format.PixelFormat != pixelFormat)
            {
                throw new SourceFaultException($"{_path} did not accept format {FourCCText(pixelFormat)} (it chose {format.FourCC})") { IsPermanent = true };
            }
            _format = format;
            LogNegotiated(_logger, _path, info.Card, FourCCText(pixelFormat), options.Width, options.Height, options.Fps,
                format.FourCC, format.Width, format.Height, format.Fps);
            _buffers.Start(options.CaptureBuffers);
            if (!format.IsJpeg)
            {
                _encoder = CreateEncoder(format, _buffers.BufferAddresses);
            }
            Controls.Attach(_device);
            _everOpened = true;
        }
        catch (V4l2Exception ex)
        {
            Close();
            throw Fault(ex);
        }
        catch
        {
            Close();
            throw;
        }
    }

    private RawFrameEncoder CreateEncoder(V4l2CaptureFormat format, IReadOnlyList<nint> buffers)
    {
        try
        {
            var layout = format.PixelFormat == PixFmtNv12 ? RawPixelLayout.Nv12 : RawPixelLayout.Yuyv;
            return new RawFrameEncoder(layout, format.Width, format.Height, format.BytesPerLine, buffers, _context.Options.Quality);
        }
        catch (OpenCvMissingException ex)
        {
            throw new SourceFaultException(ex.Message + " (or use --format mjpeg if the camera offers it)", ex) { IsPermanent = true };
        }
    }

    private uint ChooseFormat(IReadOnlyList<V4l2PixelFormat> offered, string wanted)
    {
        bool Has(uint code) => offered.Any(f => f.Code == code);
        uint? choice = wanted switch
        {
            "mjpeg" => Has(PixFmtMjpeg) ? PixFmtMjpeg : Has(PixFmtJpeg) ? PixFmtJpeg : null,
            "yuyv" => Has(PixFmtYuyv) ? PixFmtYuyv : null,
            "nv12" => Has(PixFmtNv12) ? PixFmtNv12 : null,
            _ => new[] { PixFmtMjpeg, PixFmtJpeg, PixFmtYuyv, PixFmtNv12 }.FirstOrDefault(Has) is var c and not 0 ? c : null,
        };
        if (choice is { } code)
        {
            return code;
        }
        var list = offered.Count == 0 ? "none" : string.Join(", ", offered.Select(f => f.FourCC));
        throw new SourceFaultException(wanted == "auto"
            ? $"{_path} offers no format we can use (it has {list}; we need MJPEG, YUYV or NV12)"
            : $"{_path} does not offer --format {wanted} (it has {list})")
        { IsPermanent = true };
    }

    public Frame? Capture(CancellationToken cancellation)
    {
        var buffers = _buffers ?? throw new SourceFaultException("not open");
        V4l2DequeuedBuffer buffer;
        try
        {
            if (!buffers.TryDequeue((int)_context.Options.DeviceTimeout.TotalMilliseconds, cancellation, out buffer))
            {
                throw new SourceFaultException($"no frame for {_context.Options.DeviceTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
            }
        }
        catch (V4l2Exception ex)
        {
            throw Fault(ex);
        }

        _context.Stats.CountCaptured();
        Frame? frame = null;
        try
        {
            frame = buffer.HasError ? null : _encoder is null ? PassThrough(buffer) : Encode(buffer);
            if (buffer.HasError)
            {
                _context.Stats.CountDropped();
            }
        }
        finally
        {
            try
            {
                buffers.Requeue(buffer.Index);
            }
            catch (V4l2Exception ex)
            {
                frame?.Release();
                throw Fault(ex);
            }
        }
        return frame is null ? null : SkipIfSame(frame);
    }

    private Frame? PassThrough(in V4l2DequeuedBuffer buffer)
    {
        var data = buffer.Data;
        var check = JpegDht.Inspect(data, out var length, out var scanOffset);
        if (check == JpegCheck.Invalid)
        {
            _context.Stats.CountDropped();
            return null;
        }
        var frame = JpegDht.RentPlayable(_context.Pool, data, check, length, scanOffset);
        frame.Width = _format!.Width;
        frame.Height = _format.Height;
        frame.TimestampMicros = buffer.TimestampMicros;
        _context.Stats.CountPassthrough();
        return frame;
    }

    private Frame? Encode(in V4l2DequeuedBuffer buffer)
    {
        if (!_context.ShouldEncode)
        {
            return null;
        }
        var frame = _encoder!.Encode(buffer.Index, _context.Pool);
        frame.TimestampMicros = buffer.TimestampMicros;
        _context.Stats.CountEncoded(_encoder.LastEncodeTime);
        return frame;
    }

    /// <summary>--drop-same-frames N: a frame equal to the last published one is skipped, at most N times in a row.</summary>
    private Frame? SkipIfSame(Frame frame)
    {
        var limit = _context.Options.DropSameFrames;
        if (limit == 0)
        {
            return frame;
        }
        if (_previous is { } previous && _sameInARow < limit && previous.Length == frame.Length && previous.Span.SequenceEqual(frame.Span))
        {
            _sameInARow++;
            frame.Release();
            return null;
        }
        _sameInARow = 0;
        _previous?.Release();
        frame.AddRef();
        _previous = frame;
        return frame;
    }

    private SourceFaultException Fault(V4l2Exception ex) => new(ex.Errno switch
    {
        _ when ex.IsDisconnect => "device unplugged",
        Libc.ENOENT => _everOpened ? "device unplugged" : $"no such device: {_path} (is the camera plugged in? see --list-devices)",
        Libc.EBUSY => $"busy: another program is using {_path}",
        Libc.EACCES or Libc.EPERM => $"permission denied: add the user to the video group to use {_path} (sudo usermod -aG video $USER, then log in again)",
        Libc.ENOTTY when ex.Operation == "VIDIOC_QUERYCAP" => $"not a capture device: {_path} is not a V4L2 device",
        _ => $"{_path}: {ex.Operation} failed: {Libc.Describe(ex.Errno)}",
    }, ex);

    public void Close()
    {
        Controls.Detach();
        _previous?.Release();
        _previous = null;
        _sameInARow = 0;
        _encoder?.Dispose();
        _encoder = null;
        _buffers?.Dispose();
        _buffers = null;
        _device?.Dispose();
        _device = null;
    }

    public TimeSpan RetryDelay(int failures) => _context.Options.DeviceErrorDelay;

    public void Dispose() => Close();

    [LoggerMessage(Level = LogLevel.Information, Message = "{Device} ({Card}): asked for {AskedFormat} {AskedWidth}x{AskedHeight} at {AskedFps} fps, granted {Format} {Width}x{Height} at {Fps} fps")]
    private static partial void LogNegotiated(ILogger logger, string device, string card, string askedFormat, int askedWidth, int askedHeight, double askedFps,
        string format, int width, int height, double fps);
}
