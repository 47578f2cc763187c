using System.Runtime.InteropServices;
using System.Text;

namespace VideoEdge.Sources.V4l2;

// Mirrors of the linux/videodev2.h structs we pass to ioctl, blittable and laid out as the C
// compiler lays them out (V4l2StructLayoutTests compares every offset with gcc's). Unions are
// represented by their first member plus padding; pointer-sized members use nint so that the
// same definitions hold on 32- and 64-bit targets.

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2Capability
{
    public fixed byte Driver[16];
    public fixed byte Card[32];
    public fixed byte BusInfo[32];
    public uint Version, Capabilities, DeviceCaps;
    public fixed uint Reserved[3];

    /// <summary>The device node's own capabilities when the driver reports them, else the whole device's.</summary>
    public readonly uint EffectiveCaps => (Capabilities & V4l2Constants.CapDeviceCaps) != 0 ? DeviceCaps : Capabilities;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2FmtDesc
{
    public uint Index, Type, Flags;
    public fixed byte Description[32];
    public uint PixelFormat, MbusCode;
    public fixed uint Reserved[3];
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2Fract
{
    public uint Numerator, Denominator;
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2FrmSizeStepwise
{
    public uint MinWidth, MaxWidth, StepWidth;
    public uint MinHeight, MaxHeight, StepHeight;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2FrmSizeEnum
{
    public uint Index, PixelFormat, Type;
    /// <summary>Union: discrete (width, height) overlays the first two fields.</summary>
    public V4l2FrmSizeStepwise Stepwise;
    public fixed uint Reserved[2];

    public readonly uint DiscreteWidth => Stepwise.MinWidth;
    public readonly uint DiscreteHeight => Stepwise.MaxWidth;
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2FrmIvalStepwise
{
    public V4l2Fract Min, Max, Step;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2FrmIvalEnum
{
    public uint Index, PixelFormat, Width, Height, Type;
    /// <summary>Union: discrete overlays Min.</summary>
    public V4l2FrmIvalStepwise Stepwise;
    public fixed uint Reserved[2];

    public readonly V4l2Fract Discrete => Stepwise.Min;
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2PixFormat
{
    public uint Width, Height, PixelFormat, Field, BytesPerLine, SizeImage;
    public uint Colorspace, Priv, Flags, YcbcrEnc, Quantization, XferFunc;
}

/// <summary>The 200-byte format union; it holds pointers (v4l2_window), hence pointer alignment.</summary>
[StructLayout(LayoutKind.Explicit, Size = 200)]
internal struct V4l2FormatUnion
{
    [FieldOffset(0)] public V4l2PixFormat Pix;
    [FieldOffset(0)] private readonly nint _alignment;
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2Format
{
    public uint Type;
    public V4l2FormatUnion Fmt;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2CaptureParm
{
    public uint Capability, CaptureMode;
    public V4l2Fract TimePerFrame;
    public uint ExtendedMode, ReadBuffers;
    public fixed uint Reserved[4];
}

/// <summary>The type, then the 200-byte parm union, of which we use the capture member (no pointers, so no padding).</summary>
[StructLayout(LayoutKind.Sequential, Size = 4 + 200)]
internal struct V4l2StreamParm
{
    public uint Type;
    public V4l2CaptureParm Capture;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2RequestBuffers
{
    public uint Count, Type, Memory, Capabilities;
    public byte Flags;
    public fixed byte Reserved[3];
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2Timecode
{
    public uint Type, Flags;
    public byte Frames, Seconds, Minutes, Hours;
    public fixed byte UserBits[4];
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2Buffer
{
    public uint Index, Type, BytesUsed, Flags, Field;
    /// <summary>struct timeval: tv_sec, tv_usec (both long).</summary>
    public nint TimestampSeconds, TimestampMicroseconds;
    public V4l2Timecode Timecode;
    public uint Sequence, Memory;
    /// <summary>Union m: for MMAP its low 32 bits are the offset to pass to mmap.</summary>
    public nuint M;
    public uint Length, Reserved2;
    public int RequestFd;

    public readonly uint Offset => (uint)M;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2Input
{
    public uint Index;
    public fixed byte Name[32];
    public uint Type, AudioSet, Tuner;
    public ulong Std;
    public uint Status, Capabilities;
    public fixed uint Reserved[3];
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2QueryCtrl
{
    public uint Id, Type;
    public fixed byte Name[32];
    public int Minimum, Maximum, Step, DefaultValue;
    public uint Flags;
    public fixed uint Reserved[2];
}

[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct V4l2QueryMenu
{
    public uint Id, Index;
    /// <summary>Union with a 64-bit value for integer menus.</summary>
    public fixed byte Name[32];
    public uint Reserved;
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2Control
{
    public uint Id;
    public int Value;
}

internal static class V4l2Text
{
    /// <summary>A NUL-terminated fixed-size char array as a string.</summary>
    public static unsafe string FromFixed(byte* chars, int size)
    {
        var span = new ReadOnlySpan<byte>(chars, size);
        var end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }
}
