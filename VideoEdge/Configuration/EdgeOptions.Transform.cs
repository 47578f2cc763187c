namespace VideoEdge.Configuration;

/// <summary>Changes to the picture. Each one asked for costs a decode and an encode per frame.</summary>
public sealed partial class EdgeOptions
{
    /// <summary>Text drawn on every frame; {name} is the camera's name, {utc} the time. Null: none.</summary>
    public string? Overlay { get; set; }
    /// <summary>Clockwise degrees: 0, 90, 180 or 270.</summary>
    public int Rotate { get; set; }
    public bool FlipHorizontal { get; set; }
    public bool FlipVertical { get; set; }
    public double Scale { get; set; } = 1;

    /// <summary>Frames declaring more pixels than this are dropped before the transform decodes them; 0: the default.</summary>
    public long MaxFramePixelsGiven { get; set; }

    /// <summary>
    /// A JPEG says its size in 10 bytes and OpenCV allocates whatever it says before it reads a pixel:
    /// a 44 KB frame claiming 32000×32000 costs 3 GB. The default admits the configured size and
    /// anything up to 4096×4096 (about 50 MB decoded).
    /// </summary>
    public long MaxFramePixels => MaxFramePixelsGiven > 0 ? MaxFramePixelsGiven : Math.Max((long)Width * Height, 4096L * 4096);

    public bool TransformRequested => Overlay is not null || Rotate != 0 || FlipHorizontal || FlipVertical || Scale != 1;

    internal static IEnumerable<OptionSpec> TransformSpecs =>
    [
        new("overlay", null, "Text drawn on every frame, in a colour that stands out from the picture behind it; {name} is the camera's name, {utc} the UTC time. Costs a decode and an encode per frame.",
            (o, v) =>
            {
                o.Overlay = v;
                return v.Length is > 0 and <= 200 ? null : "text of 1 to 200 characters, e.g. \"{name} {utc}\"";
            }, PerCamera: true),
        new("rotate", o => Shown(o.Rotate), "Turn the picture clockwise by 90, 180 or 270 degrees (a decode and an encode per frame).",
            (o, v) => ParseInt(v, 0, 270, x => o.Rotate = x, "0, 90, 180 or 270") ?? (o.Rotate % 90 == 0 ? null : "0, 90, 180 or 270"), PerCamera: true),
        new("flip", o => (o.FlipHorizontal ? "h" : "") + (o.FlipVertical ? "v" : "") is { Length: > 0 } flip ? flip : "none", "Mirror the picture: h (left-right), v (upside down), hv (both) or none (a decode and an encode per frame).",
            (o, v) =>
            {
                var value = v.Trim().ToLowerInvariant();
                if (value is not ("none" or "h" or "v" or "hv" or "vh"))
                {
                    return "h, v, hv or none";
                }
                o.FlipHorizontal = value.Contains('h');
                o.FlipVertical = value.Contains('v');
                return null;
            }, PerCamera: true),
        new("scale", o => Shown(o.Scale), "Resize the picture by this factor, e.g. 0.5 for half width and height (a decode and an encode per frame).",
            (o, v) => ParseDouble(v, 0.1, 2, x => o.Scale = x, "a factor from 0.1 to 2"), PerCamera: true),
        new("max-frame-pixels", o => o.MaxFramePixelsGiven > 0 ? Shown(o.MaxFramePixelsGiven) : "auto", "With a transform on: frames whose JPEG header declares more pixels than this (WxH, or a pixel count) are dropped before they are decoded. auto = the larger of --resolution and 4096x4096.",
            (o, v) => ParseFramePixels(o, v), PerCamera: true),
    ];

    private static string? ParseFramePixels(EdgeOptions o, string v)
    {
        const string allowed = "auto, WIDTHxHEIGHT (e.g. 1920x1080) or a pixel count from 256 to 1000000000";
        var text = v.Trim().ToLowerInvariant();
        if (text == "auto")
        {
            o.MaxFramePixelsGiven = 0;
            return null;
        }
        var parts = text.Split('x');
        long pixels = 1;
        foreach (var part in parts)
        {
            if (parts.Length > 2 || !long.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n is < 1 or > 1_000_000_000)
            {
                return allowed;
            }
            pixels *= n;
        }
        if (pixels is < 256 or > 1_000_000_000)
        {
            return allowed;
        }
        o.MaxFramePixelsGiven = pixels;
        return null;
    }
}
