using System.Buffers;
using System.Globalization;
using System.Text;

namespace VideoEdge.Api;

/// <summary>
/// Prometheus text exposition format (version 0.0.4) written straight into a buffer writer: metric
/// names and help are UTF-8 literals, numbers are formatted in place, so a scrape allocates next to nothing.
/// </summary>
public readonly struct PrometheusWriter(IBufferWriter<byte> output)
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Starts a metric family: its HELP and TYPE lines.</summary>
    public void Family(ReadOnlySpan<byte> name, ReadOnlySpan<byte> type, ReadOnlySpan<byte> help)
    {
        Raw("# HELP "u8);
        Raw(name);
        Raw(" "u8);
        Raw(help);
        Raw("\n# TYPE "u8);
        Raw(name);
        Raw(" "u8);
        Raw(type);
        Raw("\n"u8);
    }

    public void Sample(ReadOnlySpan<byte> name, ReadOnlySpan<byte> label, string value, long number)
    {
        Head(name, label, value);
        Number(number);
    }

    public void Sample(ReadOnlySpan<byte> name, ReadOnlySpan<byte> label, string value, double number)
    {
        Head(name, label, value);
        Number(number);
    }

    /// <summary>A sample with two labels, e.g. camera and transport.</summary>
    public void Sample(ReadOnlySpan<byte> name, ReadOnlySpan<byte> label, string value, ReadOnlySpan<byte> label2, string value2, long number)
    {
        Raw(name);
        Raw("{"u8);
        Label(label, value);
        Raw(","u8);
        Label(label2, value2);
        Raw("} "u8);
        Number(number);
    }

    /// <summary>A sample without labels.</summary>
    public void Sample(ReadOnlySpan<byte> name, double number)
    {
        Raw(name);
        Raw(" "u8);
        Number(number);
    }

    /// <summary>One histogram bucket line: name_bucket{label="value",le="bound"} cumulative.</summary>
    public void Bucket(ReadOnlySpan<byte> name, ReadOnlySpan<byte> label, string value, double upperBound, long cumulative)
    {
        Raw(name);
        Raw("_bucket{"u8);
        Label(label, value);
        Raw(",le=\""u8);
        Format(upperBound);
        Raw("\"} "u8);
        Number(cumulative);
    }

    private void Head(ReadOnlySpan<byte> name, ReadOnlySpan<byte> label, string value)
    {
        Raw(name);
        Raw("{"u8);
        Label(label, value);
        Raw("} "u8);
    }

    private void Label(ReadOnlySpan<byte> name, string value)
    {
        Raw(name);
        Raw("=\""u8);
        // Label values escape backslash, double quote and newline; everything else is literal UTF-8.
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length) * 2);
        var n = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '\\':
                    span[n++] = (byte)'\\';
                    span[n++] = (byte)'\\';
                    break;
                case '"':
                    span[n++] = (byte)'\\';
                    span[n++] = (byte)'"';
                    break;
                case '\n':
                    span[n++] = (byte)'\\';
                    span[n++] = (byte)'n';
                    break;
                default:
                    n += rune.EncodeToUtf8(span[n..]);
                    break;
            }
        }
        output.Advance(n);
        Raw("\""u8);
    }

    private void Number(long value)
    {
        var span = output.GetSpan(24);
        value.TryFormat(span, out var n, default, CultureInfo.InvariantCulture);
        span[n++] = (byte)'\n';
        output.Advance(n);
    }

    private void Number(double value)
    {
        Format(value);
        Raw("\n"u8);
    }

    /// <summary>Shortest round-trip form; Prometheus spells the special values NaN, +Inf and -Inf.</summary>
    private void Format(double value)
    {
        if (!double.IsFinite(value))
        {
            Raw(double.IsNaN(value) ? "NaN"u8 : value > 0 ? "+Inf"u8 : "-Inf"u8);
            return;
        }
        var span = output.GetSpan(32);
        value.TryFormat(span, out var n, "R", CultureInfo.InvariantCulture);
        output.Advance(n);
    }

    private void Raw(ReadOnlySpan<byte> bytes) => output.Write(bytes);
}
