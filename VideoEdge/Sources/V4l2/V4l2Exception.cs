using VideoEdge.Interop;

namespace VideoEdge.Sources.V4l2;

/// <summary>A libc or ioctl call on a video device failed; <see cref="Errno"/> says why.</summary>
public sealed class V4l2Exception(string device, string operation, int errno)
    : IOException($"{device}: {operation} failed: {Libc.Describe(errno)} (errno {errno})")
{
    public string Device { get; } = device;
    public string Operation { get; } = operation;
    public int Errno { get; } = errno;

    /// <summary>The camera went away: unplugged, or its USB link died.</summary>
    public bool IsDisconnect => Errno is Libc.ENODEV or Libc.EIO or Libc.ENXIO or Libc.ESHUTDOWN;
}
