using System.Text;
using VideoEdge.Interop;

namespace VideoEdge.Bench.Load;

/// <summary>One viewer: a non-blocking socket, its stream parser and what it saw inside the window.</summary>
internal sealed unsafe class LoadConnection : IFrameSink
{
    private readonly LoadWindow _window;
    private readonly byte[] _request;
    private long _startNs;
    private long _captureNs;
    private long _sequence;
    private long _lastSequence = -1;

    public LoadConnection(LoadSpec spec, bool slow, LoadWindow window)
    {
        Slow = slow;
        _window = window;
        Parser = spec.Transport == "ws" ? new WebSocketParser(this) : new MjpegParser(this);
        _request = Encoding.ASCII.GetBytes(spec.Transport == "ws"
            ? $"GET {spec.Path} HTTP/1.1\r\nHost: 127.0.0.1:{spec.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            : $"GET {spec.Path} HTTP/1.1\r\nHost: 127.0.0.1:{spec.Port}\r\nAccept: */*\r\n\r\n");
        Fd = Libc.Socket(Libc.AF_INET, Libc.SOCK_STREAM | Libc.SOCK_NONBLOCK | Libc.SOCK_CLOEXEC, 0);
        if (slow && spec.SlowReceiveBuffer > 0)
        {
            Libc.SetIntOption(Fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, spec.SlowReceiveBuffer);
        }
        var address = Libc.Loopback(spec.Port);
        if (Libc.Connect(Fd, &address, (uint)sizeof(SockAddrIn)) != 0 && Libc.LastError != Libc.EINPROGRESS)
        {
            Error = $"connect: errno {Libc.LastError}";
        }
    }

    public const int BufferSize = 8192;

    /// <summary>Bytes read but not yet consumed by the parser (a header cut by the read).</summary>
    public byte[] Buffer { get; } = new byte[BufferSize];
    public int Carry { get; set; }
    public int Fd { get; }
    public bool Slow { get; }
    public StreamParser Parser { get; }
    public bool RequestSent { get; private set; }
    public bool Closed { get; set; }
    public string? Error { get; set; }

    /// <summary>Slow viewers may read this many more bytes (a token bucket refilled by the loop).</summary>
    public double Budget { get; set; }

    public long FramesTotal { get; private set; }
    public long FramesInWindow { get; private set; }
    public long BytesInWindow { get; private set; }
    public long GapsInWindow { get; private set; }
    public long FirstSequenceInWindow { get; private set; } = -1;
    public long LastSequenceInWindow { get; private set; } = -1;
    public long FramesWithoutStamp { get; private set; }

    /// <summary>Frames captured inside the window and received completely (whenever that was).</summary>
    public long CapturedInWindowReceived { get; private set; }

    public long NowNs { get; set; }

    /// <summary>Sends the request once the connection is up; false while it is still connecting.</summary>
    public bool TrySendRequest()
    {
        fixed (byte* r = _request)
        {
            var n = Libc.Send(Fd, r, (nuint)_request.Length, Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT);
            if (n == _request.Length)
            {
                RequestSent = true;
                return true;
            }
            if (n < 0 && Libc.LastError is Libc.EAGAIN or 107 /* ENOTCONN */)
            {
                return false;
            }
            Error = $"send request: errno {Libc.LastError}";
            return false;
        }
    }

    public void OnFrameStart(long captureNs, long sequence)
    {
        _startNs = NowNs;
        _captureNs = captureNs;
        _sequence = sequence;
        if (captureNs == 0)
        {
            FramesWithoutStamp++;
        }
    }

    public void OnFrameEnd(int bytes)
    {
        FramesTotal++;
        var now = NowNs;
        if (_window.Contains(_captureNs) && _sequence >= 0)
        {
            CapturedInWindowReceived++;
            _window.SeeCapturedSequence(_sequence);
        }
        if (!_window.Contains(now))
        {
            _lastSequence = _sequence;
            return;
        }
        FramesInWindow++;
        BytesInWindow += bytes;
        if (_sequence >= 0)
        {
            if (FirstSequenceInWindow < 0)
            {
                FirstSequenceInWindow = _sequence;
            }
            if (_lastSequence >= 0 && _sequence > _lastSequence + 1)
            {
                GapsInWindow += _sequence - _lastSequence - 1;
            }
            LastSequenceInWindow = _sequence;
        }
        _lastSequence = _sequence;
        if (_captureNs > 0)
        {
            if (Slow)
            {
                _window.RecordSlow(_startNs - _captureNs, now - _captureNs);
            }
            else
            {
                _window.RecordLatency(now - _captureNs);
            }
        }
    }
}
