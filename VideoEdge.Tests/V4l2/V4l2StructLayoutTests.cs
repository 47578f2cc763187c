using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VideoEdge.Sources.V4l2;
using VideoEdge.Tests.Fakes;

namespace VideoEdge.Tests.V4l2;

/// <summary>
/// Our C# mirrors of the V4L2 structs against gcc's view of linux/videodev2.h on this machine:
/// every size, every field offset and every ioctl request number the C program prints must match.
/// This is what catches a union, a 32/64-bit long or a packed struct got wrong.
/// </summary>
public sealed class V4l2StructLayoutTests
{
    internal sealed record Mirror(int Size, Func<string, int> Offset, IReadOnlyDictionary<string, string> Fields);

    internal static Mirror Of<T>(params (string C, string CSharp)[] fields) where T : unmanaged =>
        new(Unsafe.SizeOf<T>(), f => (int)Marshal.OffsetOf<T>(f), fields.ToDictionary(x => x.C, x => x.CSharp));

    private static readonly Dictionary<string, Mirror> Structs = new()
    {
        ["v4l2_capability"] = Of<V4l2Capability>(("driver", "Driver"), ("card", "Card"), ("bus_info", "BusInfo"),
            ("version", "Version"), ("capabilities", "Capabilities"), ("device_caps", "DeviceCaps")),
        ["v4l2_fmtdesc"] = Of<V4l2FmtDesc>(("index", "Index"), ("type", "Type"), ("flags", "Flags"),
            ("description", "Description"), ("pixelformat", "PixelFormat")),
        ["v4l2_frmsizeenum"] = Of<V4l2FrmSizeEnum>(("index", "Index"), ("pixel_format", "PixelFormat"), ("type", "Type"),
            ("discrete", "Stepwise")),
        ["v4l2_frmivalenum"] = Of<V4l2FrmIvalEnum>(("index", "Index"), ("pixel_format", "PixelFormat"), ("width", "Width"),
            ("height", "Height"), ("type", "Type"), ("discrete", "Stepwise")),
        ["v4l2_format"] = Of<V4l2Format>(("type", "Type"), ("fmt", "Fmt")),
        ["v4l2_pix_format"] = Of<V4l2PixFormat>(("width", "Width"), ("height", "Height"), ("pixelformat", "PixelFormat"),
            ("field", "Field"), ("bytesperline", "BytesPerLine"), ("sizeimage", "SizeImage"), ("colorspace", "Colorspace")),
        ["v4l2_streamparm"] = Of<V4l2StreamParm>(("type", "Type"), ("parm", "Capture")),
        ["v4l2_captureparm"] = Of<V4l2CaptureParm>(("capability", "Capability"), ("capturemode", "CaptureMode"),
            ("timeperframe", "TimePerFrame"), ("extendedmode", "ExtendedMode"), ("readbuffers", "ReadBuffers")),
        ["v4l2_requestbuffers"] = Of<V4l2RequestBuffers>(("count", "Count"), ("type", "Type"), ("memory", "Memory"),
            ("capabilities", "Capabilities")),
        ["v4l2_buffer"] = Of<V4l2Buffer>(("index", "Index"), ("type", "Type"), ("bytesused", "BytesUsed"), ("flags", "Flags"),
            ("field", "Field"), ("timestamp", "TimestampSeconds"), ("timecode", "Timecode"), ("sequence", "Sequence"),
            ("memory", "Memory"), ("m", "M"), ("length", "Length"), ("request_fd", "RequestFd")),
        ["v4l2_queryctrl"] = Of<V4l2QueryCtrl>(("id", "Id"), ("type", "Type"), ("name", "Name"), ("minimum", "Minimum"),
            ("maximum", "Maximum"), ("step", "Step"), ("default_value", "DefaultValue"), ("flags", "Flags")),
        ["v4l2_querymenu"] = Of<V4l2QueryMenu>(("id", "Id"), ("index", "Index"), ("name", "Name")),
        ["v4l2_control"] = Of<V4l2Control>(("id", "Id"), ("value", "Value")),
        ["v4l2_input"] = Of<V4l2Input>(("index", "Index"), ("name", "Name"), ("type", "Type")),
    };

    private static readonly Dictionary<string, nuint> Requests = new()
    {
        ["VIDIOC_QUERYCAP"] = V4l2Constants.VidiocQueryCap,
        ["VIDIOC_ENUM_FMT"] = V4l2Constants.VidiocEnumFmt,
        ["VIDIOC_G_FMT"] = V4l2Constants.VidiocGFmt,
        ["VIDIOC_S_FMT"] = V4l2Constants.VidiocSFmt,
        ["VIDIOC_REQBUFS"] = V4l2Constants.VidiocReqBufs,
        ["VIDIOC_QUERYBUF"] = V4l2Constants.VidiocQueryBuf,
        ["VIDIOC_QBUF"] = V4l2Constants.VidiocQBuf,
        ["VIDIOC_DQBUF"] = V4l2Constants.VidiocDQBuf,
        ["VIDIOC_STREAMON"] = V4l2Constants.VidiocStreamOn,
        ["VIDIOC_STREAMOFF"] = V4l2Constants.VidiocStreamOff,
        ["VIDIOC_G_PARM"] = V4l2Constants.VidiocGParm,
        ["VIDIOC_S_PARM"] = V4l2Constants.VidiocSParm,
        ["VIDIOC_ENUMINPUT"] = V4l2Constants.VidiocEnumInput,
        ["VIDIOC_G_CTRL"] = V4l2Constants.VidiocGCtrl,
        ["VIDIOC_S_CTRL"] = V4l2Constants.VidiocSCtrl,
        ["VIDIOC_QUERYCTRL"] = V4l2Constants.VidiocQueryCtrl,
        ["VIDIOC_QUERYMENU"] = V4l2Constants.VidiocQueryMenu,
        ["VIDIOC_ENUM_FRAMESIZES"] = V4l2Constants.VidiocEnumFrameSizes,
        ["VIDIOC_ENUM_FRAMEINTERVALS"] = V4l2Constants.VidiocEnumFrameIntervals,
    };

    /// <summary>What a C program from fakecam/ (structs.c here, libc_structs.c for Interop) prints, line by line.</summary>
    internal static IReadOnlyList<(string Name, string Member, ulong Value)> CLayout(string program = "structs")
    {
        program = FakeCamera.CompileC(Path.Combine(FakeCamera.SourceDirectory, program + ".c"), program, "");
        var psi = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        var lines = new List<(string, string, ulong)>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            var dot = parts[0].IndexOf('.');
            lines.Add((parts[0][..dot], parts[0][(dot + 1)..], ulong.Parse(parts[1], CultureInfo.InvariantCulture)));
        }
        return lines;
    }

    [Fact]
    public void EveryStructSizeAndOffsetMatchesTheCompiler()
    {
        var layout = CLayout().Where(l => l.Name != "ioctl").ToList();
        Assert.True(layout.Count > 60, "the layout program printed too little");
        AssertMirrorsMatch(Structs, layout);
    }

    /// <summary>Every size and offset in <paramref name="layout"/> equals its C# mirror's, and every mirror is in it.</summary>
    internal static void AssertMirrorsMatch(IReadOnlyDictionary<string, Mirror> structs, IReadOnlyList<(string Name, string Member, ulong Value)> layout)
    {
        var mismatches = new List<string>();
        foreach (var (name, member, value) in layout)
        {
            Assert.True(structs.TryGetValue(name, out var mirror), $"struct {name} has no C# mirror in this test");
            if (member == "size")
            {
                if ((ulong)mirror.Size != value)
                {
                    mismatches.Add($"sizeof(struct {name}) = {value}, C# {mirror.Size}");
                }
                continue;
            }
            Assert.True(mirror.Fields.TryGetValue(member, out var field), $"{name}.{member} has no C# field in this test");
            var offset = mirror.Offset(field);
            if ((ulong)offset != value)
            {
                mismatches.Add($"offsetof({name}, {member}) = {value}, C# {field} at {offset}");
            }
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.Equal(structs.Keys.Order(), layout.Select(l => l.Name).Distinct().Order());
    }

    [Fact]
    public void EveryIoctlRequestNumberMatchesTheCompiler()
    {
        var codes = CLayout().Where(l => l.Name == "ioctl").ToList();
        Assert.Equal(Requests.Keys.Order(), codes.Select(c => c.Member).Order());
        foreach (var (_, name, value) in codes)
        {
            Assert.True(value == Requests[name], $"{name}: gcc 0x{value:x8}, C# 0x{(ulong)Requests[name]:x8}");
        }
    }
}
