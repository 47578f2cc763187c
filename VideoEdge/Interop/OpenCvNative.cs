using OpenCvSharp;
using OpenCvSharp.Internal;
using OpenCvSharp.Internal.Vectors;

namespace VideoEdge.Interop;

/// <summary>
/// The OpenCV calls made below OpenCvSharp's public API, each because the public one allocates or
/// disposes per call what a per-frame path must reuse. OpenCV errors surface as OpenCvSharp's exception.
/// </summary>
internal static class OpenCvNative
{
    /// <summary>Loads the native library and makes one call into it: throws what the loader or OpenCvSharp throws when it cannot.</summary>
    public static void Probe() => NativeMethods.TryPInvoke();

    /// <summary>
    /// Encodes <paramref name="input"/> into <paramref name="output"/> (reused; Cv2.ImEncode returns
    /// a new byte[] per call, a large-object allocation at 720p). False when OpenCV produced nothing.
    /// </summary>
    public static bool ImEncode(string extension, InputArray input, VectorOfByte output, int[] parameters)
    {
        NativeMethods.HandleException(
            NativeMethods.imgcodecs_imencode_vector(extension, input.CvPtr, output.CvPtr, parameters, parameters.Length, out var ok));
        return ok != 0 && output.Size > 0;
    }

    /// <summary>cvtColor into a reused <paramref name="output"/> (Cv2.CvtColor disposes the OutputArray after one use).</summary>
    public static void CvtColor(InputArray input, OutputArray output, ColorConversionCodes code) =>
        NativeMethods.HandleException(NativeMethods.imgproc_cvtColor(input.CvPtr, output.CvPtr, (int)code, 0));
}
