using System.Globalization;
using VideoEdge.Api;
using VideoEdge.Configuration;

namespace VideoEdge.Variants;

/// <summary>
/// What a viewer asked for with ?width= and ?quality=: one variant of a camera's picture. Width 0
/// keeps the camera's size; a width is made even (JPEG's chroma subsampling wants even sizes) and the
/// height follows the aspect ratio, even too.
/// </summary>
public readonly record struct VariantKey(int Width, int Quality)
{
    public const int MinWidth = 16;
    public const int MaxWidth = 7680;

    public override string ToString() => Width == 0 ? $"full q{Quality}" : $"{Width}w q{Quality}";

    /// <summary>The output size for a <paramref name="width"/>×<paramref name="height"/> source: never larger than it.</summary>
    public (int Width, int Height) OutputSize(int width, int height)
    {
        if (Width == 0 || Width >= width)
        {
            return (width, height);
        }
        var h = (int)Math.Round((double)height * Width / width);
        return (Width, Math.Max(2, h & ~1));
    }

    /// <summary>
    /// The variant the query asks for (null: none, the camera's own frames), or false with a 400
    /// problem when a value is out of range or repeated.
    /// </summary>
    public static bool TryRead(HttpContext context, EdgeOptions options, out VariantKey? key, out ApiProblem? problem)
    {
        key = null;
        problem = null;
        var query = context.Request.Query;
        var widths = query["width"];
        var qualities = query["quality"];
        if (widths.Count == 0 && qualities.Count == 0)
        {
            return true;
        }
        var width = 0;
        if (widths.Count > 0 && !(widths.Count == 1
            && int.TryParse(widths[0], NumberStyles.None, CultureInfo.InvariantCulture, out width)
            && width is >= MinWidth and <= MaxWidth))
        {
            problem = ApiProblem.BadRequest("Invalid width", $"'width' must appear once, as a whole number of pixels from {MinWidth} to {MaxWidth}; the height follows the camera's aspect ratio.");
            return false;
        }
        var quality = options.Quality;
        if (qualities.Count > 0 && !(qualities.Count == 1
            && int.TryParse(qualities[0], NumberStyles.None, CultureInfo.InvariantCulture, out quality)
            && quality is >= 1 and <= 100))
        {
            problem = ApiProblem.BadRequest("Invalid quality", "'quality' must appear once, as a JPEG quality from 1 to 100.");
            return false;
        }
        key = new VariantKey(width & ~1, quality);
        return true;
    }
}
