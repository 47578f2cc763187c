using System.Text;
using VideoEdge.Interop;
using static VideoEdge.Sources.V4l2.V4l2Constants;

namespace VideoEdge.Sources.V4l2;

/// <summary>What VIDIOC_QUERYCAP says about a device node.</summary>
public sealed record V4l2DeviceInfo(string Driver, string Card, string BusInfo, uint Capabilities)
{
    public bool IsVideoCapture => (Capabilities & CapVideoCapture) != 0;
    public bool IsMultiplanarCapture => (Capabilities & CapVideoCaptureMplane) != 0;
    public bool CanStream => (Capabilities & CapStreaming) != 0;
}

/// <summary>A pixel format the device offers (VIDIOC_ENUM_FMT).</summary>
public sealed record V4l2PixelFormat(uint Code, string Description, bool Compressed)
{
    public string FourCC => FourCCText(Code);
}

/// <summary>A frame size (VIDIOC_ENUM_FRAMESIZES): discrete when Max equals Min.</summary>
public sealed record V4l2FrameSize(int Width, int Height, int MaxWidth, int MaxHeight, int StepWidth, int StepHeight)
{
    public bool IsDiscrete => Width == MaxWidth && Height == MaxHeight;
}

/// <summary>A menu entry of a menu control.</summary>
public sealed record V4l2MenuItem(int Index, string Name);

/// <summary>A camera control (VIDIOC_QUERYCTRL) with its current value when it can be read.</summary>
public sealed record V4l2ControlInfo(uint Id, string Name, string Label, string Type, int Minimum, int Maximum, int Step,
    int Default, int? Value, bool ReadOnly, bool Inactive, IReadOnlyList<V4l2MenuItem> Menu);

/// <summary>
/// One open video device node: capabilities, formats, sizes, intervals and controls. The fd is
/// non-blocking (capture waits with poll) and closed on exec.
/// </summary>
public sealed unsafe class V4l2Device : IDisposable
{
    private int _fd;

    private V4l2Device(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    public string Path { get; }

    internal int Fd => _fd;

    public static V4l2Device Open(string path)
    {
        var fd = Libc.Open(path, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            throw new V4l2Exception(path, "open", Libc.LastError);
        }
        return new V4l2Device(path, fd);
    }

    /// <summary>ioctl, retried on EINTR; 0 on success, else the errno.</summary>
    internal int TryIoctl<T>(nuint request, ref T argument) where T : unmanaged
    {
        while (true)
        {
            int result;
            fixed (T* p = &argument)
            {
                result = Libc.Ioctl(_fd, request, p);
            }
            if (result >= 0)
            {
                return 0;
            }
            var errno = Libc.LastError;
            if (errno != Libc.EINTR)
            {
                return errno;
            }
        }
    }

    internal void Ioctl<T>(nuint request, ref T argument, string operation) where T : unmanaged
    {
        var errno = TryIoctl(request, ref argument);
        if (errno != 0)
        {
            throw new V4l2Exception(Path, operation, errno);
        }
    }

    public V4l2DeviceInfo QueryCapability()
    {
        var cap = default(V4l2Capability);
        Ioctl(VidiocQueryCap, ref cap, "VIDIOC_QUERYCAP");
        return new V4l2DeviceInfo(V4l2Text.FromFixed(cap.Driver, 16), V4l2Text.FromFixed(cap.Card, 32),
            V4l2Text.FromFixed(cap.BusInfo, 32), cap.EffectiveCaps);
    }

    /// <summary>The device's inputs by name: one for a webcam, several on capture cards (composite, S-Video, …).</summary>
    public IReadOnlyList<string> EnumerateInputs()
    {
        var inputs = new List<string>();
        for (uint i = 0; ; i++)
        {
            var input = new V4l2Input { Index = i };
            if (TryIoctl(VidiocEnumInput, ref input) != 0)
            {
                return inputs;
            }
            inputs.Add(V4l2Text.FromFixed(input.Name, 32));
        }
    }

    public IReadOnlyList<V4l2PixelFormat> EnumerateFormats()
    {
        var formats = new List<V4l2PixelFormat>();
        for (uint i = 0; ; i++)
        {
            var desc = new V4l2FmtDesc { Index = i, Type = BufTypeVideoCapture };
            if (TryIoctl(VidiocEnumFmt, ref desc) != 0)
            {
                return formats;
            }
            formats.Add(new V4l2PixelFormat(desc.PixelFormat, V4l2Text.FromFixed(desc.Description, 32), (desc.Flags & FmtFlagCompressed) != 0));
        }
    }

    public IReadOnlyList<V4l2FrameSize> EnumerateSizes(uint pixelFormat)
    {
        var sizes = new List<V4l2FrameSize>();
        for (uint i = 0; ; i++)
        {
            var size = new V4l2FrmSizeEnum { Index = i, PixelFormat = pixelFormat };
            if (TryIoctl(VidiocEnumFrameSizes, ref size) != 0)
            {
                return sizes;
            }
            if (size.Type == FrmSizeTypeDiscrete)
            {
                sizes.Add(new V4l2FrameSize((int)size.DiscreteWidth, (int)size.DiscreteHeight, (int)size.DiscreteWidth, (int)size.DiscreteHeight, 0, 0));
                continue;
            }
            var s = size.Stepwise;
            sizes.Add(new V4l2FrameSize((int)s.MinWidth, (int)s.MinHeight, (int)s.MaxWidth, (int)s.MaxHeight, (int)s.StepWidth, (int)s.StepHeight));
            return sizes;
        }
    }

    /// <summary>The discrete frame rates offered at a size, highest first (empty when the driver gives ranges).</summary>
    public IReadOnlyList<double> EnumerateFrameRates(uint pixelFormat, int width, int height)
    {
        var rates = new List<double>();
        for (uint i = 0; ; i++)
        {
            var interval = new V4l2FrmIvalEnum { Index = i, PixelFormat = pixelFormat, Width = (uint)width, Height = (uint)height };
            if (TryIoctl(VidiocEnumFrameIntervals, ref interval) != 0 || interval.Type != FrmIvalTypeDiscrete)
            {
                break;
            }
            var d = interval.Discrete;
            if (d.Numerator > 0)
            {
                rates.Add(Math.Round((double)d.Denominator / d.Numerator, 3));
            }
        }
        rates.Sort((a, b) => b.CompareTo(a));
        return rates;
    }

    public IReadOnlyList<V4l2ControlInfo> QueryControls()
    {
        var controls = new List<V4l2ControlInfo>();
        var id = CtrlFlagNextCtrl;
        while (true)
        {
            var query = new V4l2QueryCtrl { Id = id };
            if (TryIoctl(VidiocQueryCtrl, ref query) != 0)
            {
                return controls;
            }
            id = query.Id | CtrlFlagNextCtrl;
            if ((query.Flags & CtrlFlagDisabled) != 0 || query.Type is not (CtrlTypeInteger or CtrlTypeBoolean or CtrlTypeMenu or CtrlTypeIntegerMenu or CtrlTypeButton))
            {
                continue;
            }
            var label = V4l2Text.FromFixed(query.Name, 32);
            int? value = null;
            if (query.Type != CtrlTypeButton && (query.Flags & CtrlFlagWriteOnly) == 0)
            {
                var control = new V4l2Control { Id = query.Id };
                if (TryIoctl(VidiocGCtrl, ref control) == 0)
                {
                    value = control.Value;
                }
            }
            controls.Add(new V4l2ControlInfo(query.Id, ControlKey(label), label, TypeName(query.Type), query.Minimum, query.Maximum,
                query.Step, query.DefaultValue, value, (query.Flags & CtrlFlagReadOnly) != 0, (query.Flags & CtrlFlagInactive) != 0,
                query.Type is CtrlTypeMenu or CtrlTypeIntegerMenu ? QueryMenu(query) : []));
        }
    }

    private List<V4l2MenuItem> QueryMenu(in V4l2QueryCtrl control)
    {
        var items = new List<V4l2MenuItem>();
        for (var index = control.Minimum; index <= control.Maximum && index >= 0; index++)
        {
            var menu = new V4l2QueryMenu { Id = control.Id, Index = (uint)index };
            if (TryIoctl(VidiocQueryMenu, ref menu) == 0)
            {
                var name = control.Type == CtrlTypeIntegerMenu
                    ? (*(long*)menu.Name).ToString(System.Globalization.CultureInfo.InvariantCulture)
                    : V4l2Text.FromFixed(menu.Name, 32);
                items.Add(new V4l2MenuItem(index, name));
            }
        }
        return items;
    }

    /// <summary>Sets a control; returns the errno (0 on success) so callers can tell ERANGE from a lost device.</summary>
    public int TrySetControl(uint id, int value)
    {
        var control = new V4l2Control { Id = id, Value = value };
        return TryIoctl(VidiocSCtrl, ref control);
    }

    /// <summary>The name v4l2-ctl uses: lower case, runs of other characters as one underscore ("white_balance_temperature_auto").</summary>
    public static string ControlKey(string label)
    {
        var sb = new StringBuilder(label.Length);
        foreach (var c in label)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                sb.Append(char.ToLowerInvariant(c));
            }
            else if (sb.Length > 0 && sb[^1] != '_')
            {
                sb.Append('_');
            }
        }
        return sb.ToString().TrimEnd('_');
    }

    private static string TypeName(uint type) => type switch
    {
        CtrlTypeInteger => "int",
        CtrlTypeBoolean => "bool",
        CtrlTypeMenu => "menu",
        CtrlTypeIntegerMenu => "intmenu",
        CtrlTypeButton => "button",
        _ => "other",
    };

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.Close(fd);
        }
    }
}
