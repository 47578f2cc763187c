using System.Globalization;

namespace VideoEdge.Configuration;

/// <summary>Every setting of one run. Groups of settings live in partial files beside this one.</summary>
public sealed partial class EdgeOptions
{
    /// <summary>The "main" camera's source (--source or --device), parsed and checked when given.</summary>
    public SourceSpec Source { get; set; } = SourceSpec.Auto;
    /// <summary>True when --source was given; with --camera alone there is no implicit "main" camera.</summary>
    public bool SourceGiven { get; set; }
    public int Width { get; set; } = 640;
    public int Height { get; set; } = 480;
    public double Fps { get; set; } = 30;
    /// <summary>True when --fps was given, so a file plays at that rate instead of its own.</summary>
    public bool FpsGiven { get; set; }
    public int Quality { get; set; } = 80;
    /// <summary>Parsed once, from --listen; everything downstream uses it as it is.</summary>
    public ListenAddress Listen { get; set; } = ListenAddress.Default;
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public bool Slowdown { get; set; }
    public TimeSpan SnapshotTimeout { get; set; } = TimeSpan.FromSeconds(3);
    public int SendBufferBytes { get; set; } = 128 * 1024;
    /// <summary>Every --camera (and cameras.NAME of the --config file) as given, in order; see <see cref="CameraConfigs"/>.</summary>
    internal List<CameraDefinition> CameraDefinitions { get; } = [];
    /// <summary>The cameras to run, each with its own settings: built once, at the end of parsing.</summary>
    public IReadOnlyList<CameraConfig> CameraConfigs { get; internal set; } = [];

    internal static IEnumerable<OptionSpec> CoreSpecs =>
    [
        new("source", o => o.Source.Text, "Where frames come from: test | file:PATH | rtsp://… | http://… | mjpeg+http://… (relay an MJPEG stream as-is) | remote (frames pushed by a producer) | /dev/videoN | N (= /dev/videoN) | exec:PROGRAM ARGS… (a program writing JPEGs to stdout, e.g. rpicam-vid). 'auto' = /dev/video0 when present, else the test pattern.",
            (o, v) =>
            {
                var text = v.Trim();
                if (text.Length == 0)
                {
                    return "a source such as 'test', 'file:clip.mp4' or '/dev/video0'";
                }
                if (SourceSpec.Parse(text, out var problem) is not { } source)
                {
                    return problem;
                }
                o.Source = source;
                o.SourceGiven = true;
                return null;
            }),
        new("device", null, "Alias of --source for a V4L2 device path.",
            (o, v) =>
            {
                if (!v.StartsWith("/dev/", StringComparison.Ordinal))
                {
                    return "a device path such as /dev/video0";
                }
                o.Source = SourceSpec.Device(v.Trim());
                o.SourceGiven = true;
                return null;
            }),
        new("resolution", o => $"{o.Width}x{o.Height}", "Capture (and test pattern) size WxH.", (o, v) => ParseResolution(o, v), PerCamera: true),
        new("fps", o => Shown(o.Fps), "Frames per second to capture (a file plays at its own rate unless given).",
            (o, v) => ParseDouble(v, 0.1, 240, x => { o.Fps = x; o.FpsGiven = true; }, "a number of frames per second from 0.1 to 240"), PerCamera: true),
        new("quality", o => Shown(o.Quality), "JPEG quality when frames have to be encoded (1-100).",
            (o, v) => ParseInt(v, 1, 100, x => o.Quality = x, "an integer from 1 to 100"), PerCamera: true),
        new("listen", o => o.Listen.ToString(), "Address to serve on: host:port (port 0 picks a free one), or unix:/path/to.sock for a reverse proxy (any local user may connect to it).",
            (o, v) =>
            {
                if (!ListenAddress.TryParse(v.Trim(), out var listen, out var error))
                {
                    return error;
                }
                o.Listen = listen;
                return null;
            }),
        new("send-timeout", o => Shown(o.SendTimeout), "Seconds a viewer may acknowledge nothing while frames wait for it before it is disconnected; a viewer that receives, however slowly, stays.",
            (o, v) => ParseDouble(v, 0.5, 3600, x => o.SendTimeout = TimeSpan.FromSeconds(x), "seconds from 0.5 to 3600")),
        new("snapshot-timeout", o => Shown(o.SnapshotTimeout), "Seconds /snapshot.jpg waits for a frame before answering 503.",
            (o, v) => ParseDouble(v, 0.1, 60, x => o.SnapshotTimeout = TimeSpan.FromSeconds(x), "seconds from 0.1 to 60"), PerCamera: true),
        new("send-buffer", o => Shown(o.SendBufferBytes / 1024), "KiB the kernel may buffer per viewer (bounds how old a slow viewer's frames get; 0 = kernel default).",
            (o, v) => ParseInt(v, 0, 65536, x => o.SendBufferBytes = x * 1024, "KiB from 0 to 65536")),
        new("camera", null, "Another camera as NAME=SOURCE[,SETTING=VALUE]... (name: a-z, 0-9, _ or -, up to 32); served under /cams/NAME/. The SETTINGs are those marked 'per camera' (e.g. door=/dev/video0,resolution=1280x720,fps=15,rotate=180); only trailing pairs whose name is such a setting are split off, so a URL's query or a command's commas stay in the source.",
            (o, v) =>
            {
                if (CameraDefinition.Parse(v, o.ApplyingFrom) is not { } camera)
                {
                    return "NAME=SOURCE[,SETTING=VALUE]... with NAME matching [a-z0-9_-]{1,32} and a valid source";
                }
                if (camera.Spec is null)
                {
                    return "NAME=SOURCE with a valid source";
                }
                if (camera.Invalid() is { } invalid)
                {
                    return invalid;
                }
                o.CameraDefinitions.Add(camera);
                return null;
            }, Repeatable: true),
        new("slowdown", o => Shown(o.Slowdown), "Skip encoding while nobody watches (capture continues; the first viewer or snapshot resumes it). An exec: program or a URL's ffmpeg is stopped instead.",
            (o, v) => ParseBool(v, x => o.Slowdown = x), IsSwitch: true, PerCamera: true),
    ];

    /// <summary>A camera's settings start as a copy of the global ones (lists are shared: no per-camera setting is a list).</summary>
    internal EdgeOptions CopyForCamera() => (EdgeOptions)MemberwiseClone();

    /// <summary>A value as a flag takes it (invariant digits; seconds for times; on/off): how --help shows defaults.</summary>
    internal static string Shown(double value) => value.ToString(CultureInfo.InvariantCulture);

    internal static string Shown(long value) => value.ToString(CultureInfo.InvariantCulture);

    internal static string Shown(TimeSpan value) => Shown(value.TotalSeconds);

    internal static string Shown(bool value) => value ? "on" : "off";

    internal static string ShownByteSize(int bytes) =>
        bytes % (1024 * 1024) == 0 ? Shown(bytes / (1024 * 1024)) + "M"
        : bytes % 1024 == 0 ? Shown(bytes / 1024) + "K"
        : Shown(bytes);

    internal static string? ParseResolution(EdgeOptions o, string v)
    {
        var parts = v.Trim().ToLowerInvariant().Split('x');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var w)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            && w is >= 16 and <= 7680 && h is >= 16 and <= 4320)
        {
            o.Width = w & ~1;
            o.Height = h & ~1;
            return null;
        }
        return "WIDTHxHEIGHT with each side from 16 to 7680x4320, e.g. 1280x720";
    }

    internal static string? ParseInt(string v, int min, int max, Action<int> set, string allowed)
    {
        if (int.TryParse(v.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var x) && x >= min && x <= max)
        {
            set(x);
            return null;
        }
        return allowed;
    }

    internal static string? ParseDouble(string v, double min, double max, Action<double> set, string allowed)
    {
        if (double.TryParse(v.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x >= min && x <= max)
        {
            set(x);
            return null;
        }
        return allowed;
    }

    internal static string? ParseBool(string v, Action<bool> set)
    {
        switch (v.Trim().ToLowerInvariant())
        {
            case "" or "1" or "true" or "yes" or "on":
                set(true);
                return null;
            case "0" or "false" or "no" or "off":
                set(false);
                return null;
            default:
                return "on or off";
        }
    }
}
