using System.Globalization;
using VideoEdge.Configuration;
using VideoEdge.Interop;

namespace VideoEdge.Sources.V4l2;

/// <summary>
/// video-edge --list-devices: every /dev/video* node, plus the devices named with --source,
/// --device or --camera, with driver, card, formats, sizes, frame rates and controls — the first
/// thing to run when a camera does not work.
/// </summary>
public static class DeviceLister
{
    /// <summary>Writes the report; exit code 0 when at least one capture device was found, else 1.</summary>
    public static int Run(EdgeOptions options, TextWriter output)
    {
        var paths = DevicePaths(options);
        if (paths.Count == 0)
        {
            output.WriteLine("No video devices: /dev/video* does not exist. Is the camera plugged in (see dmesg or lsusb)?");
            return 1;
        }
        var captureDevices = 0;
        foreach (var path in paths)
        {
            captureDevices += Describe(path, output) ? 1 : 0;
        }
        if (captureDevices == 0)
        {
            output.WriteLine("No capture device among them.");
            return 1;
        }
        output.WriteLine("Use one with --source PATH (and --format, --resolution, --fps as listed).");
        return 0;
    }

    private static List<string> DevicePaths(EdgeOptions options)
    {
        var found = Directory.Exists("/dev")
            ? Directory.EnumerateFiles("/dev", "video*").Where(p => int.TryParse(p.AsSpan(10), out _))
                .OrderBy(p => int.Parse(p.AsSpan(10), CultureInfo.InvariantCulture)).ToList()
            : [];
        var named = options.CameraConfigs.Select(c => c.Source).Prepend(options.Source)
            .Where(s => s.Kind == SourceKind.Device).Select(s => s.Target);
        foreach (var path in named)
        {
            if (!found.Contains(path))
            {
                found.Add(path);
            }
        }
        return found;
    }

    /// <summary>Describes one node; true when it is a usable capture device.</summary>
    private static bool Describe(string path, TextWriter output)
    {
        V4l2Device device;
        try
        {
            device = V4l2Device.Open(path);
        }
        catch (V4l2Exception ex)
        {
            output.WriteLine($"{path}: cannot open: {Libc.Describe(ex.Errno)}{Hint(ex.Errno)}");
            output.WriteLine();
            return false;
        }
        using (device)
        {
            V4l2DeviceInfo info;
            try
            {
                info = device.QueryCapability();
            }
            catch (V4l2Exception ex)
            {
                output.WriteLine($"{path}: not a V4L2 device ({Libc.Describe(ex.Errno)})");
                output.WriteLine();
                return false;
            }
            output.WriteLine($"{path}: {info.Card} (driver {info.Driver}, bus {info.BusInfo})");
            if (!info.IsVideoCapture)
            {
                output.WriteLine("  not a video capture node (UVC cameras also have a metadata node; use the other one)");
                output.WriteLine();
                return false;
            }
            var inputs = device.EnumerateInputs();
            if (inputs.Count > 0)
            {
                output.WriteLine($"  Inputs: {string.Join(", ", inputs)}");
            }
            foreach (var format in device.EnumerateFormats())
            {
                output.WriteLine($"  {format.FourCC} ({format.Description}{(format.Compressed ? ", compressed: passed through without encoding" : "")})");
                foreach (var size in device.EnumerateSizes(format.Code))
                {
                    if (!size.IsDiscrete)
                    {
                        output.WriteLine($"    {size.Width}x{size.Height} to {size.MaxWidth}x{size.MaxHeight} in steps of {size.StepWidth}x{size.StepHeight}");
                        continue;
                    }
                    var rates = device.EnumerateFrameRates(format.Code, size.Width, size.Height);
                    var fps = rates.Count == 0 ? "" : ": " + string.Join(", ", rates.Select(r => r.ToString(CultureInfo.InvariantCulture))) + " fps";
                    output.WriteLine($"    {size.Width}x{size.Height}{fps}");
                }
            }
            var controls = device.QueryControls();
            if (controls.Count > 0)
            {
                output.WriteLine("  Controls (set with PUT /api/camera/controls/NAME):");
                foreach (var c in controls)
                {
                    var range = c.Menu.Count > 0
                        ? string.Join(", ", c.Menu.Select(m => $"{m.Index}={m.Name}"))
                        : $"{c.Minimum} to {c.Maximum}{(c.Step > 1 ? $" step {c.Step}" : "")}";
                    var now = c.Value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "?";
                    output.WriteLine($"    {c.Name} ({c.Type}): {range}; default {c.Default}, now {now}{(c.ReadOnly ? ", read-only" : "")}{(c.Inactive ? ", inactive" : "")}");
                }
            }
            output.WriteLine();
            return true;
        }
    }

    private static string Hint(int errno) => errno switch
    {
        Libc.EACCES or Libc.EPERM => " (add the user to the video group: sudo usermod -aG video $USER, then log in again)",
        Libc.EBUSY => " (another program is using it)",
        Libc.ENOENT => " (no such device: is the camera plugged in?)",
        _ => "",
    };
}
