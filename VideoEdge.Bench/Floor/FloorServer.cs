using VideoEdge.Bench.Native;
using VideoEdge.Interop;

namespace VideoEdge.Bench.Floor;

/// <summary>
/// The physical floor: the least a server can do to put every camera frame on every socket. One
/// capture thread copies each frame once; one epoll thread hands the same bytes to every client
/// with a single non-blocking sendmsg (no user-space copy per client, no HTTP framework). A client
/// still busy with an older frame finishes it and then gets the newest: latest frame wins.
/// </summary>
internal sealed unsafe class FloorServer
{
    private static readonly byte[] s_responseHead = GC.AllocateArray<byte>(
        "HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=floorframe\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n--floorframe\r\n"u8.Length, pinned: true);
    private static readonly byte[] s_trailer = GC.AllocateArray<byte>("\r\n--floorframe\r\n"u8.Length, pinned: true);
    private const ulong ListenTag = ulong.MaxValue;
    private const ulong WakeTag = ulong.MaxValue - 1;

    private readonly int _sendBuffer;
    private readonly Dictionary<int, Client> _clients = [];
    private FloorFrame? _pending;
    private FloorFrame? _latest;
    private int _epoll;
    private int _wake;

    static FloorServer()
    {
        "HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=floorframe\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n--floorframe\r\n"u8.CopyTo(s_responseHead);
        "\r\n--floorframe\r\n"u8.CopyTo(s_trailer);
    }

    private FloorServer(int sendBuffer) => _sendBuffer = sendBuffer;

    /// <summary>`floor --device D --resolution WxH --port P [--send-buffer BYTES]`: prints "LISTENING port".</summary>
    public static int Run(string[] args)
    {
        Libc.Initialize();
        var device = Arg(args, "--device", "/dev/video0");
        var size = Arg(args, "--resolution", "1280x720").Split('x');
        var port = int.Parse(Arg(args, "--port", "0"));
        var sendBuffer = int.Parse(Arg(args, "--send-buffer", "131072"));
        using var capture = new V4l2Capture(device, int.Parse(size[0]), int.Parse(size[1]));
        var server = new FloorServer(sendBuffer);
        var listen = server.Listen(port);
        var capturing = new Thread(() => server.CaptureLoop(capture)) { IsBackground = true, Name = "capture" };
        capturing.Start();
        server.EventLoop(listen);
        return 0;
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    private int Listen(int port)
    {
        var fd = Libc.Socket(Libc.AF_INET, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_REUSEADDR, 1);
        var address = Libc.Loopback(port);
        if (Libc.Bind(fd, &address, (uint)sizeof(SockAddrIn)) != 0 || Libc.Listen(fd, 1024) != 0)
        {
            throw new IOException($"cannot listen on port {port}: errno {Libc.LastError}");
        }
        var length = (uint)sizeof(SockAddrIn);
        Libc.GetSockName(fd, &address, &length);
        _epoll = Libc.EpollCreate1(Libc.O_CLOEXEC);
        _wake = Libc.EventFd(0, Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        EpollEvent.Control(_epoll, Libc.EPOLL_CTL_ADD, fd, Libc.EPOLLIN, ListenTag);
        EpollEvent.Control(_epoll, Libc.EPOLL_CTL_ADD, _wake, Libc.EPOLLIN, WakeTag);
        Console.Out.WriteLine($"LISTENING {address.Port}");
        Console.Out.Flush();
        return fd;
    }

    private void CaptureLoop(V4l2Capture capture)
    {
        var pool = new FloorFramePool(capture.Width * capture.Height * 2);
        long sequence = 0;
        FrameConsumer publish = (jpeg, _) =>
        {
            var frame = pool.Rent();
            frame.Fill(jpeg, ++sequence);
            Interlocked.Exchange(ref _pending, frame)?.Release();
            Wake();
        };
        while (true)
        {
            capture.Next(1000, publish);
        }
    }

    private void Wake()
    {
        ulong one = 1;
        Libc.Write(_wake, (byte*)&one, sizeof(ulong));
    }

    private void EventLoop(int listen)
    {
        var events = new byte[EpollEvent.Size * 256];
        var scratch = new byte[4096];
        fixed (byte* ev = events)
        fixed (byte* buf = scratch)
        {
            while (true)
            {
                var n = Libc.EpollWait(_epoll, ev, 256, -1);
                for (var i = 0; i < n; i++)
                {
                    var slot = ev + i * EpollEvent.Size;
                    var tag = EpollEvent.Data(slot);
                    var what = EpollEvent.Events(slot);
                    if (tag == ListenTag)
                    {
                        Accept(listen);
                    }
                    else if (tag == WakeTag)
                    {
                        Libc.Read(_wake, buf, 8);
                        if (Interlocked.Exchange(ref _pending, null) is { } frame)
                        {
                            _latest?.Release();
                            _latest = frame;
                            foreach (var client in _clients.Values)
                            {
                                if (client.Ready && client.Current is null)
                                {
                                    Pump(client);
                                }
                            }
                        }
                    }
                    else if (_clients.TryGetValue((int)tag, out var client))
                    {
                        if ((what & Libc.EPOLLIN) != 0 || (what & (Libc.EPOLLERR | Libc.EPOLLHUP)) != 0)
                        {
                            OnReadable(client, buf, scratch.Length);
                        }
                        if ((what & Libc.EPOLLOUT) != 0 && !client.Closed)
                        {
                            Pump(client);
                        }
                    }
                }
            }
        }
    }

    private void Accept(int listen)
    {
        while (true)
        {
            var fd = Libc.Accept4(listen, null, null, Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC);
            if (fd < 0)
            {
                return;
            }
            Libc.SetIntOption(fd, Libc.IPPROTO_TCP, Libc.TCP_NODELAY, 1);
            if (_sendBuffer > 0)
            {
                Libc.SetIntOption(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, _sendBuffer);
            }
            var client = new Client(fd);
            _clients[fd] = client;
            EpollEvent.Control(_epoll, Libc.EPOLL_CTL_ADD, fd, Libc.EPOLLIN | Libc.EPOLLRDHUP, (ulong)fd);
        }
    }

    /// <summary>The request (any path: this server has one stream), then EOF or junk until the client leaves.</summary>
    private void OnReadable(Client client, byte* buf, int capacity)
    {
        while (true)
        {
            var n = Libc.Recv(client.Fd, buf, (nuint)capacity, Libc.MSG_DONTWAIT);
            if (n > 0)
            {
                if (!client.Ready && new ReadOnlySpan<byte>(buf, (int)n).IndexOf("\r\n\r\n"u8) >= 0)
                {
                    fixed (byte* head = s_responseHead)
                    {
                        Libc.Send(client.Fd, head, (nuint)s_responseHead.Length, Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT);
                    }
                    client.Ready = true;
                    Pump(client);
                }
                continue;
            }
            if (n < 0 && Libc.LastError is Libc.EAGAIN or Libc.EINTR)
            {
                return;
            }
            Drop(client);
            return;
        }
    }

    /// <summary>Sends the current part onwards, then newer frames, until the socket is full or the client is up to date.</summary>
    private void Pump(Client client)
    {
        var iov = stackalloc Libc.IoVec[3];
        while (!client.Closed)
        {
            if (client.Current is null)
            {
                var latest = _latest;
                if (latest is null || latest.Sequence <= client.LastSequence)
                {
                    client.WantWrite(_epoll, false);
                    return;
                }
                latest.AddRef();
                client.Current = latest;
                client.Offset = 0;
            }
            var frame = client.Current;
            fixed (byte* header = frame.Header)
            fixed (byte* jpeg = frame.Jpeg)
            fixed (byte* trailer = s_trailer)
            {
                var count = 0;
                var skip = client.Offset;
                Add(iov, ref count, header, frame.HeaderLength, ref skip);
                Add(iov, ref count, jpeg, frame.JpegLength, ref skip);
                Add(iov, ref count, trailer, s_trailer.Length, ref skip);
                var message = new Libc.MsgHdr { Iov = iov, IovLength = (nuint)count };
                var sent = Libc.SendMsg(client.Fd, &message, Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT);
                if (sent < 0)
                {
                    if (Libc.LastError is Libc.EAGAIN or Libc.EINTR)
                    {
                        client.WantWrite(_epoll, true);
                        return;
                    }
                    Drop(client);
                    return;
                }
                client.Offset += (int)sent;
                if (client.Offset < frame.HeaderLength + frame.JpegLength + s_trailer.Length)
                {
                    client.WantWrite(_epoll, true);
                    return;
                }
                client.LastSequence = frame.Sequence;
                client.Current = null;
                frame.Release();
            }
        }
    }

    private static void Add(Libc.IoVec* iov, ref int count, byte* data, int length, ref int skip)
    {
        if (skip >= length)
        {
            skip -= length;
            return;
        }
        iov[count++] = new Libc.IoVec { Base = data + skip, Length = (nuint)(length - skip) };
        skip = 0;
    }

    private void Drop(Client client)
    {
        if (client.Closed)
        {
            return;
        }
        client.Closed = true;
        _clients.Remove(client.Fd);
        EpollEvent.Control(_epoll, Libc.EPOLL_CTL_DEL, client.Fd, 0, 0);
        Libc.Close(client.Fd);
        client.Current?.Release();
        client.Current = null;
    }

    private sealed class Client(int fd)
    {
        private bool _wantsWrite;

        public int Fd { get; } = fd;
        public bool Ready { get; set; }
        public bool Closed { get; set; }
        public FloorFrame? Current { get; set; }
        public int Offset { get; set; }
        public long LastSequence { get; set; }

        public void WantWrite(int epoll, bool on)
        {
            if (_wantsWrite != on)
            {
                _wantsWrite = on;
                EpollEvent.Control(epoll, Libc.EPOLL_CTL_MOD, Fd, Libc.EPOLLIN | Libc.EPOLLRDHUP | (on ? Libc.EPOLLOUT : 0), (ulong)Fd);
            }
        }
    }
}
