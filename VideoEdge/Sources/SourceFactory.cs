using VideoEdge.Configuration;

namespace VideoEdge.Sources;

/// <summary>Turns a --source value, parsed at start into a <see cref="SourceSpec"/>, into the source that captures it.</summary>
public static class SourceFactory
{
    /// <summary>A camera fed by a producer pushing to /cams/NAME/ingest.</summary>
    public const string RemoteKind = SourceSpec.RemoteText;

    /// <summary>A camera fed by a producer publishing on the NATS bus (--bus).</summary>
    public const string BusKind = SourceSpec.BusText;

    /// <summary>The "auto" default: the first camera when one is plugged in, else the test pattern.</summary>
    public static SourceSpec ResolveAuto(SourceSpec source) =>
        source.Kind != SourceKind.Auto ? source : File.Exists("/dev/video0") ? SourceSpec.Device("/dev/video0") : SourceSpec.Test;

    /// <summary>At start: a file: source must be readable (exit 2 rather than a camera that never plays); the problem, or null.</summary>
    public static string? Unavailable(SourceSpec source)
    {
        if (source.Kind != SourceKind.File)
        {
            return null;
        }
        try
        {
            using var _ = File.OpenRead(source.Target);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return $"a readable video file (cannot read '{source.Target}': {ex.Message})";
        }
    }

    public static IFrameSource Create(SourceSpec source, CaptureContext context)
    {
        switch (source.Kind)
        {
            case SourceKind.Exec:
                // Secrets in arguments (an rtsp://user:password@ URL given to ffmpeg) stay out of the description.
                var description = ExecCommand.Prefix + ExecCommand.Join(source.Command.Select(Security.SourceText.Redact));
                return new ChildProcessSource(context, "exec", description, source.Command[0], [.. source.Command.Skip(1)]);
            case SourceKind.Relay:
                return new Relay.MjpegRelaySource(context, source.Target);
            case SourceKind.Test:
                return new TestPatternSource(context);
            case SourceKind.Remote:
                return new Remote.RemoteSource(context);
            case SourceKind.Bus:
                return new Bus.BusSource(context);
            case SourceKind.File:
                return new OpenCvCaptureSource(context, source.Target);
            case SourceKind.Device:
                return new V4l2.V4l2Source(context, source.Target);
            case SourceKind.Url:
                return FfmpegProcessSource.Create(context, source.Target);
            default:
                throw new ArgumentException($"'{source.Kind}' is resolved before a source is created (see ResolveAuto)", nameof(source));
        }
    }
}
