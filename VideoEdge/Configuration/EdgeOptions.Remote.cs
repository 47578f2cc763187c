using System.Globalization;

namespace VideoEdge.Configuration;

/// <summary>Settings for frames that arrive already encoded: relayed MJPEG streams and pushed JPEGs.</summary>
public sealed partial class EdgeOptions
{
    public const int DefaultMaxFrameBytes = 4 * 1024 * 1024;
    private const int MinIngestTokenLength = 8;

    /// <summary>Larger relayed parts and pushed messages are dropped (and counted).</summary>
    public int MaxFrameBytes { get; set; } = DefaultMaxFrameBytes;

    /// <summary>A relay follows its upstream's redirects (same host and port only); off: a redirect is a fault.</summary>
    public bool RelayFollowRedirects { get; set; }

    /// <summary>The secret producers present to push to /cams/NAME/ingest; null: ingest is off.</summary>
    public string? IngestToken { get; set; }

    internal static IEnumerable<OptionSpec> RemoteSpecs =>
    [
        new("ingest-token", null, "Secret that producers (video-edge push) must present to push frames to a remote camera (--camera NAME=remote). Without it (or --ingest-token-file), ingest is off.",
            (o, v) =>
            {
                o.IngestToken = v.Trim();
                return o.IngestToken.Length >= MinIngestTokenLength ? null : $"a secret of at least {MinIngestTokenLength} characters";
            }),
        new("ingest-token-file", null, "File holding the ingest token (a trailing newline is ignored); keeps it out of the process list.",
            (o, v) => ReadSecretFile(v, "ingest token", s => o.IngestToken = s)
                ?? (o.IngestToken!.Length >= MinIngestTokenLength ? null : $"a file holding a secret of at least {MinIngestTokenLength} characters")),
        new("max-frame-bytes", o => ShownByteSize(o.MaxFrameBytes), "Largest JPEG accepted from a relayed stream or a producer (bytes, or with K or M).",
            (o, v) => ParseByteSize(v, 1024, 16 * 1024 * 1024, x => o.MaxFrameBytes = x, "a size from 1K to 16M, e.g. 4M or 500K")),
        new("relay-follow-redirects", o => Shown(o.RelayFollowRedirects), "Let mjpeg+http:// cameras follow their upstream's redirects, to the same host and port only (off: a redirect shows no signal with its target).",
            (o, v) => ParseBool(v, x => o.RelayFollowRedirects = x), IsSwitch: true),
    ];

    internal static string? ParseByteSize(string v, int min, int max, Action<int> set, string allowed)
    {
        var text = v.Trim().ToUpperInvariant();
        var unit = 1L;
        if (text.EndsWith('B'))
        {
            text = text[..^1];
        }
        if (text.EndsWith('K') || text.EndsWith('M'))
        {
            unit = text[^1] == 'K' ? 1024 : 1024 * 1024;
            text = text[..^1];
        }
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number * unit >= min && number * unit <= max)
        {
            set((int)(number * unit));
            return null;
        }
        return allowed;
    }
}
