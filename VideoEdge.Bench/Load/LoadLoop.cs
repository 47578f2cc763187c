using VideoEdge.Interop;

namespace VideoEdge.Bench.Load;

/// <summary>
/// One thread serving many viewers through epoll. Fast viewers read everything as it arrives; slow
/// viewers are not polled but topped up from a token bucket every few milliseconds.
/// </summary>
internal sealed unsafe class LoadLoop
{
    private const int BufferSize = LoadConnection.BufferSize;
    private const int ReadChunk = 4096;
    private readonly List<LoadConnection> _connections = [];
    private readonly Dictionary<int, LoadConnection> _byFd = [];
    private readonly LoadWindow _window;
    private readonly double _slowRate;
    private readonly int _expectedSamples;
    private readonly byte[] _scratch = GC.AllocateUninitializedArray<byte>(1 << 20, pinned: true);
    private volatile bool _stop;
    private Thread? _thread;

    public LoadLoop(LoadWindow window, double slowBytesPerSecond, int expectedSamples)
    {
        _window = window;
        _slowRate = slowBytesPerSecond;
        _expectedSamples = expectedSamples;
    }

    public IReadOnlyList<LoadConnection> Connections => _connections;

    public void Add(LoadConnection connection)
    {
        _connections.Add(connection);
        _byFd[connection.Fd] = connection;
    }

    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "load" };
        _thread.Start();
    }

    public void Stop()
    {
        _stop = true;
        _thread?.Join();
        foreach (var c in _connections)
        {
            if (!c.Closed)
            {
                c.Closed = true;
                Libc.Close(c.Fd);
            }
        }
    }

    private void Run()
    {
        _window.RegisterThread(_expectedSamples);
        var epoll = Libc.EpollCreate1(Libc.O_CLOEXEC);
        var slow = new List<LoadConnection>();
        foreach (var c in _connections)
        {
            if (c.Error is not null)
            {
                c.Closed = true;
                continue;
            }
            EpollEvent.Control(epoll, Libc.EPOLL_CTL_ADD, c.Fd, Libc.EPOLLOUT | Libc.EPOLLIN | Libc.EPOLLRDHUP, (ulong)c.Fd);
            if (c.Slow)
            {
                slow.Add(c);
            }
        }
        var events = new byte[EpollEvent.Size * 512];
        var lastRefill = LoadWindow.NowNs();
        fixed (byte* ev = events)
        {
            while (!_stop)
            {
                var n = Libc.EpollWait(epoll, ev, 512, slow.Count > 0 ? 10 : 50);
                for (var i = 0; i < n; i++)
                {
                    var fd = (int)EpollEvent.Data(ev + i * EpollEvent.Size);
                    var c = _byFd[fd];
                    if (c.Closed)
                    {
                        continue;
                    }
                    if (!c.RequestSent)
                    {
                        if (c.TrySendRequest())
                        {
                            if (c.Slow)
                            {
                                EpollEvent.Control(epoll, Libc.EPOLL_CTL_DEL, fd, 0, 0);
                            }
                            else
                            {
                                EpollEvent.Control(epoll, Libc.EPOLL_CTL_MOD, fd, Libc.EPOLLIN | Libc.EPOLLRDHUP, (ulong)fd);
                            }
                        }
                        else if (c.Error is not null)
                        {
                            Drop(epoll, c);
                        }
                        continue;
                    }
                    if (!c.Slow)
                    {
                        Read(epoll, c, int.MaxValue);
                    }
                }
                if (slow.Count > 0)
                {
                    var now = LoadWindow.NowNs();
                    var seconds = (now - lastRefill) / 1e9;
                    lastRefill = now;
                    foreach (var c in slow)
                    {
                        if (c.Closed || !c.RequestSent)
                        {
                            continue;
                        }
                        // A quarter second of burst at most, like a link that queues a little.
                        c.Budget = Math.Min(c.Budget + _slowRate * seconds, _slowRate / 4);
                        var allowed = (int)c.Budget;
                        if (allowed > 0)
                        {
                            c.Budget -= Read(epoll, c, allowed);
                        }
                    }
                }
            }
        }
        Libc.Close(epoll);
    }

    /// <summary>Reads until the socket is empty or <paramref name="limit"/> bytes; returns the bytes read.</summary>
    private int Read(int epoll, LoadConnection c, int limit)
    {
        var total = 0;
        var parser = c.Parser;
        fixed (byte* buf = c.Buffer)
        fixed (byte* scratch = _scratch)
        {
            while (total < limit)
            {
                var carry = c.Carry;
                var skippable = carry == 0 ? parser.Skippable : 0;
                nint n;
                if (skippable > 0)
                {
                    var want = Math.Min(Math.Min(skippable, limit - total), _scratch.Length);
                    n = Libc.Recv(c.Fd, scratch, (nuint)want, Libc.MSG_TRUNC | Libc.MSG_DONTWAIT);
                    if (n > 0)
                    {
                        c.NowNs = LoadWindow.NowNs();
                        parser.Skip((int)n);
                        total += (int)n;
                        continue;
                    }
                }
                else
                {
                    var want = Math.Min(Math.Min(ReadChunk, BufferSize - carry), limit - total);
                    n = Libc.Recv(c.Fd, buf + carry, (nuint)want, Libc.MSG_DONTWAIT);
                    if (n > 0)
                    {
                        c.NowNs = LoadWindow.NowNs();
                        total += (int)n;
                        carry += (int)n;
                        var used = parser.Consume(new ReadOnlySpan<byte>(buf, carry));
                        if (parser.Error is not null)
                        {
                            c.Error = parser.Error;
                            Drop(epoll, c);
                            return total;
                        }
                        if (used == 0 && carry == BufferSize)
                        {
                            c.Error = "no progress with a full buffer";
                            Drop(epoll, c);
                            return total;
                        }
                        Buffer.MemoryCopy(buf + used, buf, BufferSize, carry - used);
                        c.Carry = carry - used;
                        continue;
                    }
                }
                if (n < 0 && Libc.LastError is Libc.EAGAIN or Libc.EINTR)
                {
                    return total;
                }
                c.Error = n == 0 ? "the server closed the connection" : $"recv: errno {Libc.LastError}";
                Drop(epoll, c);
                return total;
            }
        }
        return total;
    }

    private static void Drop(int epoll, LoadConnection c)
    {
        if (c.Closed)
        {
            return;
        }
        c.Closed = true;
        EpollEvent.Control(epoll, Libc.EPOLL_CTL_DEL, c.Fd, 0, 0);
        Libc.Close(c.Fd);
    }
}
