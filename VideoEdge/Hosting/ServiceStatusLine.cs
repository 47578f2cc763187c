using System.Globalization;
using System.Text;
using VideoEdge.Cameras;

namespace VideoEdge.Hosting;

/// <summary>
/// The one line `systemctl status video-edge` shows (STATUS=): for each camera its source and size
/// with the measured rate, or why it is offline, and how many viewers it has.
/// </summary>
public static class ServiceStatusLine
{
    public static string Describe(CameraSet cameras, Func<Camera, TimeSpan?> stalledFor)
    {
        var line = new StringBuilder();
        foreach (var camera in cameras.All)
        {
            if (line.Length > 0)
            {
                line.Append("; ");
            }
            line.Append(camera.Name).Append(": ");
            if (stalledFor(camera) is { } stalled)
            {
                line.Append(CultureInfo.InvariantCulture, $"stalled, nothing captured for {stalled.TotalSeconds:0} s");
            }
            else if (camera.Capture.State == Sources.CaptureState.Idle)
            {
                line.Append("idle (switched off on demand)");
            }
            else if (camera.Capture.Online)
            {
                var source = camera.Source;
                line.Append(CultureInfo.InvariantCulture, $"{source.Description} {source.Width}x{source.Height} at {camera.Stats.CaptureRate.PerSecond:0.0} fps");
            }
            else
            {
                line.Append("offline (").Append(camera.Capture.OfflineReason?.ReplaceLineEndings(" ")).Append(')');
            }
            var viewers = camera.Hub.ViewerCount;
            line.Append(CultureInfo.InvariantCulture, $", {viewers} {(viewers == 1 ? "viewer" : "viewers")}");
        }
        return line.ToString();
    }
}
