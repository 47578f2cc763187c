using OpenCvSharp;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>Small video files for file: sources, made with OpenCV so every camera can show something different.</summary>
internal static class TestVideos
{
    /// <summary>An MJPEG AVI of <paramref name="frames"/> frames in one colour (B, G, R) with a moving bar.</summary>
    public static string Solid(string directory, string name, Scalar colour, int width = 320, int height = 240, int frames = 30)
    {
        Assert.True(VideoEdge.Imaging.OpenCvRuntime.TryEnsure(out var error), error);
        var path = Path.Combine(directory, name + ".avi");
        using var writer = new VideoWriter(path, FourCC.MJPG, 15, new Size(width, height));
        Assert.True(writer.IsOpened(), "OpenCV cannot write " + path);
        using var image = new Mat(height, width, MatType.CV_8UC3);
        for (var i = 0; i < frames; i++)
        {
            image.SetTo(colour);
            var x = i * (width - 8) / frames;
            Cv2.Rectangle(image, new Rect(x, 0, 8, height), Scalar.White, -1);
            writer.Write(image);
        }
        return path;
    }

    public static string NewDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "videoedge-multicam-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
