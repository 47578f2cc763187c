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

    public bool TransformRequested => Overlay is not null || Rotate != 0 || FlipHorizontal || FlipVertical || Scale != 1;

    internal static IEnumerable<OptionSpec> TransformSpecs =>
    [
        new("overlay", "", "Text drawn on every frame, in a colour that stands out from the picture behind it; {name} is the camera's name, {utc} the UTC time. Costs a decode and an encode per frame.",
            (o, v) =>
            {
                o.Overlay = v;
                return v.Length is > 0 and <= 200 ? null : "text of 1 to 200 characters, e.g. \"{name} {utc}\"";
            }, PerCamera: true),
        new("rotate", "0", "Turn the picture clockwise by 90, 180 or 270 degrees (a decode and an encode per frame).",
            (o, v) => ParseInt(v, 0, 270, x => o.Rotate = x, "0, 90, 180 or 270") ?? (o.Rotate % 90 == 0 ? null : "0, 90, 180 or 270"), PerCamera: true),
        new("flip", "none", "Mirror the picture: h (left-right), v (upside down), hv (both) or none (a decode and an encode per frame).",
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
        new("scale", "1", "Resize the picture by this factor, e.g. 0.5 for half width and height (a decode and an encode per frame).",
            (o, v) => ParseDouble(v, 0.1, 2, x => o.Scale = x, "a factor from 0.1 to 2"), PerCamera: true),
    ];
}
