using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VideoEdge.Imaging;

namespace VideoEdge.Interop;

/// <summary>
/// Where every native library name used in the process is found, decided once, before any of our
/// code runs (so whichever call comes first, on any thread, already sees it). Registering loads nothing.
/// </summary>
internal static class NativeLibraries
{
    [ModuleInitializer]
    internal static void Install()
    {
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, ResolveOurs);
        NativeLibrary.SetDllImportResolver(typeof(OpenCvSharp.Internal.NativeMethods).Assembly, OpenCvRuntime.Resolve);
    }

    /// <summary><see cref="Libc.Library"/> is the global scope (see there why); anything else takes the default search.</summary>
    private static IntPtr ResolveOurs(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == Libc.Library ? NativeLibrary.GetMainProgramHandle() : IntPtr.Zero;
}
