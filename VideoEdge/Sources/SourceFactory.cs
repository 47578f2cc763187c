namespace VideoEdge.Sources;

/// <summary>Turns a --source value into the source that captures it.</summary>
public static class SourceFactory
{
    /// <summary>Marks an MJPEG stream to pass through as-is, where plain http:// is decoded and re-encoded by ffmpeg.</summary>
    private const string RelayPrefix = "mjpeg+";

    /// <summary>A camera fed by a producer pushing to /cams/NAME/ingest.</summary>
    public const string RemoteKind = "remote";

    /// <summary>A camera fed by a producer publishing on the NATS bus (--bus).</summary>
    public const string BusKind = "bus";

    /// <summary>
    /// The source to open: "auto" is the first camera when one is plugged in, else the test pattern;
    /// a number N is /dev/videoN, through our own V4L2 capture like any device path.
    /// </summary>
    public static string Resolve(string source) =>
        source == "auto" ? (File.Exists("/dev/video0") ? "/dev/video0" : "test") : DevicePath(source) ?? source;

    private static string? DevicePath(string source) =>
        int.TryParse(source, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
            ? $"/dev/video{index}"
            : null;

    /// <summary>A problem with the value itself (exit code 2), or null when it may be tried.</summary>
    public static string? Validate(string source)
    {
        if (source.StartsWith(ExecCommand.Prefix, StringComparison.Ordinal))
        {
            return ExecCommand.Split(source[ExecCommand.Prefix.Length..], out var error) is null
                ? $"exec:PROGRAM [ARGUMENTS…], a program writing JPEGs to its standard output (found {error})"
                : null;
        }
        if (source.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = source[5..];
            try
            {
                using var _ = File.OpenRead(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                return $"a readable video file (cannot read '{path}': {ex.Message})";
            }
            return null;
        }
        if (source.StartsWith(RelayPrefix, StringComparison.Ordinal))
        {
            return Uri.TryCreate(source[RelayPrefix.Length..], UriKind.Absolute, out var upstream) && upstream.Scheme is "http" or "https"
                ? null
                : "mjpeg+http://HOST[:PORT]/PATH (or mjpeg+https://) for an MJPEG stream to relay";
        }
        if (source is "test" or "auto" or RemoteKind or BusKind
            || source.StartsWith("/dev/", StringComparison.Ordinal)
            || DevicePath(source) is not null
            || Uri.TryCreate(source, UriKind.Absolute, out var uri) && uri.Scheme is "rtsp" or "rtsps" or "http" or "https" or "rtmp" or "udp" or "tcp" or "srt")
        {
            return null;
        }
        return "test, file:PATH, /dev/videoN, exec:PROGRAM ARGS…, N (for /dev/videoN), a rtsp:// or http:// URL, mjpeg+http://… to relay, remote (frames pushed by a producer) or bus (frames a producer publishes on --bus)";
    }

    public static IFrameSource Create(string source, CaptureContext context)
    {
        source = DevicePath(source) ?? source;
        if (source.StartsWith(ExecCommand.Prefix, StringComparison.Ordinal))
        {
            var words = ExecCommand.Split(source[ExecCommand.Prefix.Length..], out _)!;
            // Secrets in arguments (an rtsp://user:password@ URL given to ffmpeg) stay out of the description.
            var description = ExecCommand.Prefix + ExecCommand.Join(words.Select(Security.SourceText.Redact));
            return new ChildProcessSource(context, "exec", description, words[0], [.. words.Skip(1)]);
        }
        if (source.StartsWith(RelayPrefix, StringComparison.Ordinal))
        {
            return new Relay.MjpegRelaySource(context, source[RelayPrefix.Length..]);
        }
        if (source == "test")
        {
            return new TestPatternSource(context);
        }
        if (source == RemoteKind)
        {
            return new Remote.RemoteSource(context);
        }
        if (source == BusKind)
        {
            return new Bus.BusSource(context);
        }
        if (source.StartsWith("file:", StringComparison.Ordinal))
        {
            return new OpenCvCaptureSource(context, source[5..]);
        }
        if (source.StartsWith("/dev/", StringComparison.Ordinal))
        {
            return new V4l2.V4l2Source(context, source);
        }
        return FfmpegProcessSource.Create(context, source);
    }
}
