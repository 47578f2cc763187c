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
    public uint Version;
    public uint Capabilities;
    public uint DeviceCaps;
    public fixed uint Reserved[3];

    /// <summary>The device node's own capabilities when the driver reports them, else the whole device's.</summary>
    public readonly uint EffectiveCaps => (Capabilities & V4l2Constants.CapDeviceCaps) != 0 ? DeviceCaps : Capabilities;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2FmtDesc
{
    public uint Index;
    public uint Type;
    public uint Flags;
    public fixed byte Description[32];
    public uint PixelFormat;
    public uint MbusCode;
    public fixed uint Reserved[3];
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2Fract
{
    public uint Numerator;
    public uint Denominator;
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2FrmSizeStepwise
{
    public uint MinWidth;
    public uint MaxWidth;
    public uint StepWidth;
    public uint MinHeight;
    public uint MaxHeight;
    public uint StepHeight;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2FrmSizeEnum
{
    public uint Index;
    public uint PixelFormat;
    public uint Type;
    /// <summary>Union: discrete (width, height) overlays the first two fields.</summary>
    public V4l2FrmSizeStepwise Stepwise;
    public fixed uint Reserved[2];

    public readonly uint DiscreteWidth => Stepwise.MinWidth;
    public readonly uint DiscreteHeight => Stepwise.MaxWidth;
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2FrmIvalStepwise
{
    public V4l2Fract Min;
    public V4l2Fract Max;
    public V4l2Fract Step;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2FrmIvalEnum
{
    public uint Index;
    public uint PixelFormat;
    public uint Width;
    public uint Height;
    public uint Type;
    /// <summary>Union: discrete overlays Min.</summary>
    public V4l2FrmIvalStepwise Stepwise;
    public fixed uint Reserved[2];

    public readonly V4l2Fract Discrete => Stepwise.Min;
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2PixFormat
{
    public uint Width;
    public uint Height;
    public uint PixelFormat;
    public uint Field;
    public uint BytesPerLine;
    public uint SizeImage;
    public uint Colorspace;
    public uint Priv;
    public uint Flags;
    public uint YcbcrEnc;
    public uint Quantization;
    public uint XferFunc;
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
    public uint Capability;
    public uint CaptureMode;
    public V4l2Fract TimePerFrame;
    public uint ExtendedMode;
    public uint ReadBuffers;
    public fixed uint Reserved[4];
}

[StructLayout(LayoutKind.Explicit, Size = 200)]
internal struct V4l2StreamParmUnion
{
    [FieldOffset(0)] public V4l2CaptureParm Capture;
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2StreamParm
{
    public uint Type;
    public V4l2StreamParmUnion Parm;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2RequestBuffers
{
    public uint Count;
    public uint Type;
    public uint Memory;
    public uint Capabilities;
    public byte Flags;
    public fixed byte Reserved[3];
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2Timecode
{
    public uint Type;
    public uint Flags;
    public byte Frames;
    public byte Seconds;
    public byte Minutes;
    public byte Hours;
    public fixed byte UserBits[4];
}

[StructLayout(LayoutKind.Sequential)]
internal struct V4l2Buffer
{
    public uint Index;
    public uint Type;
    public uint BytesUsed;
    public uint Flags;
    public uint Field;
    /// <summary>struct timeval: tv_sec, tv_usec (both long).</summary>
    public nint TimestampSeconds;
    public nint TimestampMicroseconds;
    public V4l2Timecode Timecode;
    public uint Sequence;
    public uint Memory;
    /// <summary>Union m: for MMAP its low 32 bits are the offset to pass to mmap.</summary>
    public nuint M;
    public uint Length;
    public uint Reserved2;
    public int RequestFd;

    public readonly uint Offset => (uint)M;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2QueryCtrl
{
    public uint Id;
    public uint Type;
    public fixed byte Name[32];
    public int Minimum;
    public int Maximum;
    public int Step;
    public int DefaultValue;
    public uint Flags;
    public fixed uint Reserved[2];
}

[StructLayout(LayoutKind.Sequential, Pack = 1)]
internal unsafe struct V4l2QueryMenu
{
    public uint Id;
    public uint Index;
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

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct V4l2Input
{
    public uint Index;
    public fixed byte Name[32];
    public uint Type;
    public uint AudioSet;
    public uint Tuner;
    public ulong Std;
    public uint Status;
    public uint Capabilities;
    public fixed uint Reserved[3];
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
