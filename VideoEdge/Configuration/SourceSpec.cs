using System.Globalization;

namespace VideoEdge.Configuration;

/// <summary>What kind of thing a --source value names.</summary>
public enum SourceKind
{
    /// <summary>/dev/video0 when present, else the test pattern: resolved when the camera starts.</summary>
    Auto,
    Test,
    /// <summary>A V4L2 device node, /dev/videoN (also given as just N).</summary>
    Device,
    /// <summary>file:PATH, a video file.</summary>
    File,
    /// <summary>exec:PROGRAM ARGS…, a program writing JPEGs to its standard output.</summary>
    Exec,
    /// <summary>mjpeg+http(s)://…, an MJPEG stream relayed as-is.</summary>
    Relay,
    /// <summary>rtsp://, http://… and the other URLs ffmpeg reads.</summary>
    Url,
    /// <summary>Frames pushed by a producer to /cams/NAME/ingest.</summary>
    Remote,
    /// <summary>Frames a producer publishes on the NATS bus.</summary>
    Bus,
}

/// <summary>
/// A --source value, parsed and checked once at start: its kind, and what it points at (a path, a URL,
/// an index, or a program's words). Sources.SourceFactory builds the source from it.
/// </summary>
public sealed record SourceSpec
{
    public const string AutoText = "auto";
    public const string TestText = "test";
    public const string RemoteText = "remote";
    public const string BusText = "bus";
    private const string FilePrefix = "file:";
    private const string RelayPrefix = "mjpeg+";

    private SourceSpec(SourceKind kind, string text, string target, IReadOnlyList<string>? command = null)
    {
        Kind = kind;
        Text = text;
        Target = target;
        Command = command ?? [];
    }

    public static SourceSpec Auto { get; } = new(SourceKind.Auto, AutoText, "");
    public static SourceSpec Test { get; } = new(SourceKind.Test, TestText, "");

    public SourceKind Kind { get; }

    /// <summary>The value as given (it may hold secrets: redact before showing it).</summary>
    public string Text { get; }

    /// <summary>The device path, file path, or URL (for a relay: the upstream's http(s) URL); empty for the others.</summary>
    public string Target { get; }

    /// <summary>An exec: source's program and arguments; empty for the others.</summary>
    public IReadOnlyList<string> Command { get; }

    public static SourceSpec Device(string path) => new(SourceKind.Device, path, path);

    /// <summary>Parses a --source value; null with what is allowed in <paramref name="error"/> when it is not one.</summary>
    public static SourceSpec? Parse(string text, out string? error)
    {
        error = null;
        if (text.StartsWith(ExecCommand.Prefix, StringComparison.Ordinal))
        {
            if (ExecCommand.Split(text[ExecCommand.Prefix.Length..], out var problem) is not { } words)
            {
                error = $"exec:PROGRAM [ARGUMENTS…], a program writing JPEGs to its standard output (found {problem})";
                return null;
            }
            return new SourceSpec(SourceKind.Exec, text, "", words);
        }
        if (text.StartsWith(FilePrefix, StringComparison.Ordinal))
        {
            // Whether the file can be read is checked when the server starts (Sources.SourceFactory.Unavailable).
            return new SourceSpec(SourceKind.File, text, text[FilePrefix.Length..]);
        }
        if (text.StartsWith(RelayPrefix, StringComparison.Ordinal))
        {
            if (Uri.TryCreate(text[RelayPrefix.Length..], UriKind.Absolute, out var upstream) && upstream.Scheme is "http" or "https")
            {
                return new SourceSpec(SourceKind.Relay, text, text[RelayPrefix.Length..]);
            }
            error = "mjpeg+http://HOST[:PORT]/PATH (or mjpeg+https://) for an MJPEG stream to relay";
            return null;
        }
        switch (text)
        {
            case AutoText:
                return Auto;
            case TestText:
                return Test;
            case RemoteText:
                return new SourceSpec(SourceKind.Remote, text, "");
            case BusText:
                return new SourceSpec(SourceKind.Bus, text, "");
        }
        if (text.StartsWith("/dev/", StringComparison.Ordinal))
        {
            return Device(text);
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            // N is /dev/videoN, through our own V4L2 capture like any device path.
            return new SourceSpec(SourceKind.Device, text, "/dev/video" + index.ToString(CultureInfo.InvariantCulture));
        }
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "rtsp" or "rtsps" or "http" or "https" or "rtmp" or "udp" or "tcp" or "srt")
        {
            return new SourceSpec(SourceKind.Url, text, text);
        }
        error = "test, file:PATH, /dev/videoN, exec:PROGRAM ARGS…, N (for /dev/videoN), a rtsp:// or http:// URL, mjpeg+http://… to relay, remote (frames pushed by a producer) or bus (frames a producer publishes on --bus)";
        return null;
    }

    public override string ToString() => Text;
}
