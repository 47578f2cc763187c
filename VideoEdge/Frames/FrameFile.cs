using Microsoft.Win32.SafeHandles;
using VideoEdge.Interop;

namespace VideoEdge.Frames;

/// <summary>
/// A hub's published frames copied into a file in memory (memfd), so that a frame going to many
/// viewers' sockets is handed to the kernel by reference: sendfile makes each socket's queue point at
/// the file's pages, where a sendmsg from the frame's buffer copies the whole frame into every socket.
/// The one copy per frame pays off from <see cref="MinViewers"/> such viewers up (BENCHMARKS.md).
/// Each copy is framed as most of the viewers it goes to frame it (MJPEG's part head before it and the
/// next boundary after it, or a WebSocket message's header before it), so such a viewer sends its
/// whole message in one sendfile: a head or boundary sent in a call of its own cost more than the copy
/// saved (measured).
/// Every copy gets pages of its own: when its frame goes back to the pool the slot's pages are
/// punched out of the file, so bytes still queued in a slow viewer's socket keep the pages they point
/// at, and the next frame written to the slot gets fresh ones.
/// </summary>
public sealed class FrameFile
{
    /// <summary>Viewers sending from the publishing thread (<see cref="Hub.Subscription.ResumeOnPublisher"/>) from which a frame is copied here.</summary>
    public const int MinViewers = 16;

    /// <summary>The longest head written before a copy.</summary>
    public const int MaxHeadBytes = 256;

    // A frame starts this far into its slot, its head right before it: on a page of its own. A viewer
    // that sends its own head (WebSocket) then sends whole pages from the file, as before heads were
    // here; starting mid-page, its head and first sendfile round stayed just short of one loopback
    // segment, which held them back until the socket counted as full (measured: 4× the CPU).
    private const int HeadRoom = 4096;

    // A frame's largest size with its framing, rounded up to a multiple of any huge page: a slot is
    // always punched whole, so no page is ever shared by two slots or zeroed in place. The file is
    // sparse: only written pages cost memory.
    private const long SlotBytes = FramePool.MaxFrameBytes + (2 << 20);

    private readonly SafeFileHandle _file;
    private readonly Lock _lock = new();
    private readonly Stack<int> _free = new();
    private int _slots;
    private volatile bool _broken;

    private FrameFile(SafeFileHandle file) => _file = file;

    /// <summary>A new, empty file; null where memfd is not available (the frames then go from their buffers).</summary>
    public static FrameFile? TryCreate()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var fd = Libc.MemfdCreate("videoedge-frames", Libc.MFD_CLOEXEC);
        // Closed by the handle's finalizer once the hub and every frame copied here are gone: a viewer may still be sending from it after its hub closed.
        return fd < 0 ? null : new FrameFile(new SafeFileHandle(fd, ownsHandle: true));
    }

    internal SafeFileHandle Handle => _file;

    /// <summary>Where the frame of <paramref name="slot"/> starts; its head ends there.</summary>
    internal static long OffsetOf(int slot) => slot * SlotBytes + HeadRoom;

    /// <summary>
    /// Copies <paramref name="frame"/> (which the caller holds), framed by <paramref name="framing"/>,
    /// into a slot of its own and gives the frame the slot until it goes back to its pool. False when
    /// it cannot (the file broke, or the head is longer than <see cref="MaxHeadBytes"/>): the frame then
    /// goes from its buffer.
    /// </summary>
    public bool TryCopy(Frame frame, IFramer framing)
    {
        if (_broken || framing.MaxHeadBytes > MaxHeadBytes)
        {
            return false;
        }
        int slot;
        lock (_lock)
        {
            if (!_free.TryPop(out slot))
            {
                slot = _slots++;
            }
        }
        Span<byte> head = stackalloc byte[MaxHeadBytes];
        head = head[..framing.WriteHead(frame, head)];
        var offset = OffsetOf(slot);
        if (!Libc.TryWriteAt(_file, head, offset - head.Length) || !Libc.TryWriteAt(_file, frame.Span, offset)
            || !Libc.TryWriteAt(_file, framing.Tail.Span, offset + frame.Length))
        {
            Free(slot);
            return false;
        }
        frame.AttachFileCopy(this, slot, head, framing.Tail);
        return true;
    }

    /// <summary>The slot's frame went back to its pool: its pages leave the file, and the slot is free for another frame.</summary>
    internal void Free(int slot)
    {
        if (!Libc.TryPunchHole(_file, slot * SlotBytes, SlotBytes))
        {
            // Writing over pages a socket may still send from would change a picture in flight: never reuse it, copy no more.
            _broken = true;
            return;
        }
        lock (_lock)
        {
            _free.Push(slot);
        }
    }
}
