namespace VideoEdge.Configuration;

/// <summary>Settings of V4L2 (USB) cameras.</summary>
public sealed partial class EdgeOptions
{
    /// <summary>mjpeg, yuyv, nv12 or auto (MJPEG when offered, else YUYV, else NV12).</summary>
    public string CaptureFormat { get; set; } = "auto";
    public int CaptureBuffers { get; set; } = 4;
    public TimeSpan DeviceTimeout { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan DeviceErrorDelay { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>How many identical frames in a row may be skipped (0: publish every frame).</summary>
    public int DropSameFrames { get; set; }
    public bool ListDevices { get; set; }
    /// <summary>Stop capturing after this long without a viewer or snapshot request (zero: always capture).</summary>
    public TimeSpan OnDemand { get; set; }

    internal static IEnumerable<OptionSpec> CameraSpecs =>
    [
        new("format", o => o.CaptureFormat, "Pixel format to ask a V4L2 camera for: mjpeg (passed through, no encode), yuyv, nv12, or auto (the first of those offered).",
            (o, v) =>
            {
                var format = v.Trim().ToLowerInvariant();
                if (format is "mjpeg" or "yuyv" or "nv12" or "auto")
                {
                    o.CaptureFormat = format;
                    return null;
                }
                return "mjpeg, yuyv, nv12 or auto";
            }, PerCamera: true),
        new("buffers", o => Shown(o.CaptureBuffers), "V4L2 capture buffers to request (2-32).",
            (o, v) => ParseInt(v, 2, 32, x => o.CaptureBuffers = x, "an integer from 2 to 32"), PerCamera: true),
        new("device-timeout", o => Shown(o.DeviceTimeout), "Seconds without a frame before a V4L2 camera counts as lost (no-signal frames, reopen).",
            (o, v) => ParseDouble(v, 0.1, 60, x => o.DeviceTimeout = TimeSpan.FromSeconds(x), "seconds from 0.1 to 60"), PerCamera: true),
        new("device-error-delay", o => Shown(o.DeviceErrorDelay), "Seconds between attempts to reopen a lost V4L2 camera.",
            (o, v) => ParseDouble(v, 0.1, 60, x => o.DeviceErrorDelay = TimeSpan.FromSeconds(x), "seconds from 0.1 to 60"), PerCamera: true),
        new("drop-same-frames", o => Shown(o.DropSameFrames), "Skip a frame identical to the previous one, at most N times in a row (saves bandwidth on static scenes; 0 = off).",
            (o, v) => ParseInt(v, 0, 1000, x => o.DropSameFrames = x, "an integer from 0 to 1000"), PerCamera: true),
        new("on-demand", o => Shown(o.OnDemand), "Switch a camera off after this many seconds without a viewer or snapshot request (V4L2: STREAMOFF and close; a child program or network stream: stopped) and on again for the next one; health probes, /metrics and /api/state never wake it. 0 = always capture.",
            (o, v) => ParseDouble(v, 0, 86400, x => o.OnDemand = TimeSpan.FromSeconds(x), "seconds from 0 (off) to 86400"), PerCamera: true),
        new("list-devices", o => Shown(o.ListDevices), "Print every /dev/video* camera (and the --source/--device given) with its driver, formats, sizes, frame rates and controls, then exit.",
            (o, v) => ParseBool(v, x => o.ListDevices = x), IsSwitch: true),
    ];
}
