using OpenCvSharp;

namespace VideoEdge.Tests.Infrastructure;

public static class Jpeg
{
    /// <summary>Starts with SOI and ends with EOI.</summary>
    public static bool HasMarkers(ReadOnlySpan<byte> data) =>
        data.Length > 4 && data[0] == 0xFF && data[1] == 0xD8 && data[^2] == 0xFF && data[^1] == 0xD9;

    /// <summary>Decodes with OpenCV; returns the image size (throws when it is not a decodable JPEG).</summary>
    public static (int Width, int Height) Decode(byte[] data)
    {
        Assert.True(VideoEdge.Imaging.OpenCvRuntime.TryEnsure(out var error), error);
        using var image = Cv2.ImDecode(data, ImreadModes.Color);
        Assert.False(image.Empty(), "OpenCV could not decode the JPEG");
        return (image.Width, image.Height);
    }
}
