using System.Globalization;
using System.Text;

namespace VideoEdge.Bench.Harness;

/// <summary>CPU per 1,000 delivered frames against viewer count, per server: an SVG, rasterized by rsvg-convert.</summary>
internal static class Plot
{
    private static readonly (ServerKind Kind, string Colour)[] s_series =
    [
        (ServerKind.Floor, "#777777"), (ServerKind.UStreamer, "#d62728"), (ServerKind.VideoEdge, "#1f77b4"), (ServerKind.VideoEdgeWs, "#2ca02c"),
        // The baseline binary: the same hue, lighter and dashed, so before and after read as a pair.
        (ServerKind.VideoEdgeBefore, "#8fbce6"), (ServerKind.VideoEdgeWsBefore, "#98df8a"),
    ];

    public static void Write(IReadOnlyList<Measurement> sweep, string svgPath, string pngPath)
    {
        File.WriteAllText(svgPath, Svg(sweep));
        if (Setup.Which("rsvg-convert") is { } rsvg)
        {
            Setup.Run(rsvg, ["-w", "900", "-o", pngPath, svgPath], check: false);
        }
    }

    private static string Svg(IReadOnlyList<Measurement> sweep)
    {
        const double W = 900, H = 540, left = 80, right = 250, top = 50, bottom = 70;
        var counts = sweep.Select(m => m.Clients).Distinct().Order().ToArray();
        var series = s_series.Where(s => sweep.Any(m => m.Server == s.Kind))
            .Select(s => (s.Kind, s.Colour, Points: counts.Select(c => (c, Report.Med(sweep.Where(m => m.Server == s.Kind && m.Clients == c), m => m.CpuPer1000Frames)))
                .Where(p => double.IsFinite(p.Item2)).ToArray()))
            .ToArray();
        // Log scale on both axes: one viewer costs ten times what a viewer among 200 does, and the
        // differences that matter are at the many-viewer end.
        var values = series.SelectMany(s => s.Points).Select(p => p.Item2).Where(v => v > 0).DefaultIfEmpty(0.1).ToArray();
        var yTicks = new[] { 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10 };
        var yLow = yTicks.Where(t => t <= values.Min()).DefaultIfEmpty(yTicks[0]).Max();
        var yHigh = yTicks.Where(t => t >= values.Max()).DefaultIfEmpty(yTicks[^1]).Min();
        var xMin = Math.Log10(counts.DefaultIfEmpty(1).Min());
        var xMax = Math.Log10(counts.DefaultIfEmpty(10).Max());
        if (xMax - xMin < 1e-9)
        {
            xMax = xMin + 1;
        }
        double X(int clients) => left + (Math.Log10(clients) - xMin) / (xMax - xMin) * (W - left - right);
        double Y(double v) => H - bottom - (Math.Log10(v) - Math.Log10(yLow)) / (Math.Log10(yHigh) - Math.Log10(yLow)) * (H - top - bottom);
        var inv = CultureInfo.InvariantCulture;
        var svg = new StringBuilder();
        svg.AppendLine(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"DejaVu Sans, sans-serif\" font-size=\"14\">");
        svg.AppendLine("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        var resolution = sweep.Count > 0 ? sweep[0].Resolution : "";
        svg.AppendLine(inv, $"<text x=\"{left}\" y=\"28\" font-size=\"16\">CPU-seconds per 1,000 delivered frames, {resolution} MJPEG at 30 fps (lower is better)</text>");
        foreach (var v in yTicks.Where(t => t >= yLow && t <= yHigh))
        {
            svg.AppendLine(inv, $"<line x1=\"{left}\" x2=\"{W - right}\" y1=\"{Y(v):F1}\" y2=\"{Y(v):F1}\" stroke=\"#e0e0e0\"/>");
            svg.AppendLine(inv, $"<text x=\"{left - 8}\" y=\"{Y(v) + 5:F1}\" text-anchor=\"end\">{v:0.###}</text>");
        }
        foreach (var c in counts)
        {
            svg.AppendLine(inv, $"<line x1=\"{X(c):F1}\" x2=\"{X(c):F1}\" y1=\"{top}\" y2=\"{H - bottom}\" stroke=\"#f0f0f0\"/>");
            svg.AppendLine(inv, $"<text x=\"{X(c):F1}\" y=\"{H - bottom + 22}\" text-anchor=\"middle\">{c}</text>");
        }
        svg.AppendLine(inv, $"<line x1=\"{left}\" x2=\"{W - right}\" y1=\"{H - bottom}\" y2=\"{H - bottom}\" stroke=\"black\"/>");
        svg.AppendLine(inv, $"<line x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{H - bottom}\" stroke=\"black\"/>");
        svg.AppendLine(inv, $"<text x=\"{(left + W - right) / 2}\" y=\"{H - 22}\" text-anchor=\"middle\">concurrent viewers (log scale)</text>");
        svg.AppendLine(inv, $"<text transform=\"translate(22 {(top + H - bottom) / 2}) rotate(-90)\" text-anchor=\"middle\">CPU-s per 1,000 frames (log scale)</text>");
        var legendY = top + 10.0;
        foreach (var (kind, colour, points) in series)
        {
            var path = string.Join(' ', points.Select((p, i) => string.Create(inv, $"{(i == 0 ? 'M' : 'L')}{X(p.c):F1},{Y(p.Item2):F1}")));
            var dash = BenchOptions.IsBefore(kind) ? " stroke-dasharray=\"8 5\"" : "";
            svg.AppendLine(inv, $"<path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\"{dash}/>");
            foreach (var (c, v) in points)
            {
                svg.AppendLine(inv, $"<circle cx=\"{X(c):F1}\" cy=\"{Y(v):F1}\" r=\"4\" fill=\"{colour}\"/>");
            }
            svg.AppendLine(inv, $"<line x1=\"{W - right + 15}\" x2=\"{W - right + 45}\" y1=\"{legendY}\" y2=\"{legendY}\" stroke=\"{colour}\" stroke-width=\"3\"{dash}/>");
            svg.AppendLine(inv, $"<text x=\"{W - right + 52}\" y=\"{legendY + 5}\">{ServerProcess.Label(kind).Replace("µ", "&#181;", StringComparison.Ordinal)}</text>");
            legendY += 26;
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
