using System.Reflection;
using System.Runtime.InteropServices;
using VideoEdge.Interop;

namespace VideoEdge.Imaging;

/// <summary>
/// OpenCV is loaded lazily, only by work that touches pixels, so an MJPEG camera runs on a board
/// that has no OpenCV at all. The resolver finds the native library beside our own binary (an AOT
/// binary does not look there by itself) before the default probing.
/// </summary>
public static class OpenCvRuntime
{
    public const string NativeLibraryFile = "libOpenCvSharpExtern.so";
    private static readonly Lock s_lock = new();
    private static string? s_error;
    private static bool? s_available;
    private static string? s_loaderError;

    /// <summary>Set VIDEOEDGE_NO_OPENCV=1 to behave as if the library were missing (for tests and triage).</summary>
    public static bool Disabled => Environment.GetEnvironmentVariable("VIDEOEDGE_NO_OPENCV") == "1";

    public static bool IsAvailable => TryEnsure(out _);

    /// <summary>Loads OpenCV once; false with a user-facing explanation when it cannot be used.</summary>
    public static bool TryEnsure(out string? error)
    {
        lock (s_lock)
        {
            if (s_available is null)
            {
                s_available = Load(out s_error);
            }
            error = s_error;
            return s_available.Value;
        }
    }

    /// <summary>Throws a one-line <see cref="OpenCvMissingException"/> when OpenCV cannot be used.</summary>
    public static void Ensure(string feature)
    {
        if (!TryEnsure(out var error))
        {
            throw new OpenCvMissingException($"{feature} needs OpenCV, which is not available: {error}");
        }
    }

    private static bool Load(out string? error)
    {
        if (Disabled)
        {
            error = "disabled by VIDEOEDGE_NO_OPENCV=1";
            return false;
        }
        try
        {
            OpenCvNative.Probe();
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException or OpenCvSharp.OpenCvSharpException)
        {
            var inner = ex.InnerException ?? ex;
            error = s_loaderError is { } loader
                ? $"{loader}. Install what it needs (ldd shows what is missing; on Debian and Raspberry Pi OS: apt-get install libgtk-3-0)"
                : inner is DllNotFoundException
                    ? $"{NativeLibraryFile} is neither beside the video-edge binary in {AppContext.BaseDirectory} nor on the library path. "
                        + "publish.sh puts it there (for linux-arm64 give it OPENCV_NATIVE=/path/to/it); it needs: apt-get install libgtk-3-0"
                    : $"{NativeLibraryFile} could not be used ({FirstLine(inner.Message)})";
            return false;
        }
    }

    /// <summary>
    /// OpenCvSharp's resolver (installed by Interop's NativeLibraries before any of our code runs), so
    /// whatever touches OpenCvSharp first (not necessarily <see cref="Ensure"/>) finds the library beside the binary.
    /// </summary>
    internal static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!name.Contains("OpenCvSharpExtern", StringComparison.Ordinal))
        {
            return IntPtr.Zero;
        }
        foreach (var dir in new[] { AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native"), Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native") })
        {
            var candidate = Path.Combine(dir, NativeLibraryFile);
            if (!File.Exists(candidate))
            {
                continue;
            }
            try
            {
                return NativeLibrary.Load(candidate);
            }
            catch (DllNotFoundException ex)
            {
                // The file is there but the loader refused it: keep its reason (usually a missing dependency).
                s_loaderError = LoaderReason(ex.Message, candidate);
            }
        }
        return NativeLibrary.TryLoad(NativeLibraryFile, out var fallback) ? fallback : IntPtr.Zero;
    }

    /// <summary>The dynamic loader's own words (dlerror), which the runtime puts on the line after its advice.</summary>
    private static string LoaderReason(string message, string path)
    {
        var reason = message.Split('\n').Skip(1).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 1) ?? FirstLine(message);
        return $"{path} is there but cannot be loaded ({reason})";
    }

    private static string FirstLine(string s)
    {
        var nl = s.IndexOf('\n');
        return (nl < 0 ? s : s[..nl]).Trim();
    }
}

public sealed class OpenCvMissingException(string message) : Exception(message);
