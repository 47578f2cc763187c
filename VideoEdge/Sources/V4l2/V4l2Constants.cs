namespace VideoEdge.Sources.V4l2;

/// <summary>The linux/videodev2.h numbers we use; ioctl codes are built from our structs' sizes like _IOWR does.</summary>
internal static unsafe class V4l2Constants
{
    public const uint BufTypeVideoCapture = 1;
    public const uint MemoryMmap = 1;
    public const uint FieldNone = 1;

    public const uint CapVideoCapture = 0x00000001;
    public const uint CapVideoCaptureMplane = 0x00001000;
    public const uint CapStreaming = 0x04000000;
    public const uint CapDeviceCaps = 0x80000000;

    public const uint FmtFlagCompressed = 0x0001;

    public const uint FrmSizeTypeDiscrete = 1;
    public const uint FrmIvalTypeDiscrete = 1;

    public const uint CapTimePerFrame = 0x1000;

    public const uint BufFlagError = 0x00000040;
    public const uint BufFlagTimestampMask = 0x0000e000;
    public const uint BufFlagTimestampMonotonic = 0x00002000;

    public const uint CtrlTypeInteger = 1;
    public const uint CtrlTypeBoolean = 2;
    public const uint CtrlTypeMenu = 3;
    public const uint CtrlTypeButton = 4;
    public const uint CtrlTypeIntegerMenu = 9;

    public const uint CtrlFlagDisabled = 0x0001;
    public const uint CtrlFlagReadOnly = 0x0004;
    public const uint CtrlFlagInactive = 0x0010;
    public const uint CtrlFlagWriteOnly = 0x0040;
    public const uint CtrlFlagNextCtrl = 0x80000000;

    public static uint FourCC(char a, char b, char c, char d) => a | (uint)b << 8 | (uint)c << 16 | (uint)d << 24;

    public static readonly uint PixFmtMjpeg = FourCC('M', 'J', 'P', 'G');
    public static readonly uint PixFmtJpeg = FourCC('J', 'P', 'E', 'G');
    public static readonly uint PixFmtYuyv = FourCC('Y', 'U', 'Y', 'V');
    public static readonly uint PixFmtNv12 = FourCC('N', 'V', '1', '2');

    public static string FourCCText(uint code) => string.Create(4, code, static (chars, c) =>
    {
        for (var i = 0; i < 4; i++)
        {
            var ch = (char)((c >> (8 * i)) & 0xFF);
            chars[i] = ch is >= ' ' and <= '~' ? ch : '?';
        }
    });

    // _IOC(dir, type, nr, size) on the architectures we target (x86, arm): dir in bits 30-31.
    private const uint IocWrite = 1;
    private const uint IocRead = 2;

    private static nuint Ioc(uint direction, uint number, int size) =>
        (nuint)(direction << 30 | (uint)size << 16 | (uint)'V' << 8 | number);

    private static nuint Ior<T>(uint number) where T : unmanaged => Ioc(IocRead, number, sizeof(T));
    private static nuint Iow<T>(uint number) where T : unmanaged => Ioc(IocWrite, number, sizeof(T));
    private static nuint Iowr<T>(uint number) where T : unmanaged => Ioc(IocRead | IocWrite, number, sizeof(T));

    public static readonly nuint VidiocQueryCap = Ior<V4l2Capability>(0);
    public static readonly nuint VidiocEnumFmt = Iowr<V4l2FmtDesc>(2);
    public static readonly nuint VidiocGFmt = Iowr<V4l2Format>(4);
    public static readonly nuint VidiocSFmt = Iowr<V4l2Format>(5);
    public static readonly nuint VidiocReqBufs = Iowr<V4l2RequestBuffers>(8);
    public static readonly nuint VidiocQueryBuf = Iowr<V4l2Buffer>(9);
    public static readonly nuint VidiocQBuf = Iowr<V4l2Buffer>(15);
    public static readonly nuint VidiocDQBuf = Iowr<V4l2Buffer>(17);
    public static readonly nuint VidiocStreamOn = Iow<int>(18);
    public static readonly nuint VidiocStreamOff = Iow<int>(19);
    public static readonly nuint VidiocGParm = Iowr<V4l2StreamParm>(21);
    public static readonly nuint VidiocSParm = Iowr<V4l2StreamParm>(22);
    public static readonly nuint VidiocEnumInput = Iowr<V4l2Input>(26);
    public static readonly nuint VidiocGCtrl = Iowr<V4l2Control>(27);
    public static readonly nuint VidiocSCtrl = Iowr<V4l2Control>(28);
    public static readonly nuint VidiocQueryCtrl = Iowr<V4l2QueryCtrl>(36);
    public static readonly nuint VidiocQueryMenu = Iowr<V4l2QueryMenu>(37);
    public static readonly nuint VidiocEnumFrameSizes = Iowr<V4l2FrmSizeEnum>(74);
    public static readonly nuint VidiocEnumFrameIntervals = Iowr<V4l2FrmIvalEnum>(75);
}
