using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using VideoEdge.Frames;
using VideoEdge.Interop;

namespace VideoEdge.Viewers;

/// <summary>
/// Puts a viewer's bytes straight on its socket: one non-blocking sendmsg per frame that points at
/// the shared frame buffer, so the kernel's copy is the only one. Through Kestrel's response pipe
/// every viewer's frame is first copied into 4 KB pipe blocks (a lock and a span per block) and the
/// blocks are pinned one by one for the send — measured, that is most of the user-space time of
/// streaming (see BENCHMARKS.md). Only the viewers whose socket is full wait, through the socket's
/// own async send; everybody else is done in one system call. A frame the hub copied to its file
/// (<see cref="FrameFile"/>: many viewers) goes by sendfile instead, by reference to the file's pages.
/// Plain-text HTTP/1.x only: with TLS the bytes must go through Kestrel's encryption.
/// </summary>
public sealed class SocketSink : ByteSink
{
    private readonly Socket _socket;
    private readonly SafeHandle _handle;
    private readonly HttpContext _context;
    private readonly bool _ownsResponse;
    // sendfile takes no MSG_DONTWAIT: only a socket in non-blocking mode may use it on the publishing thread.
    private readonly bool _nonBlocking;

    private SocketSink(Socket socket, HttpContext context, bool ownsResponse) : base(DeliveryRate.TryCreate(socket))
    {
        _socket = socket;
        _handle = socket.SafeHandle;
        _context = context;
        _ownsResponse = ownsResponse;
        _nonBlocking = Libc.IsNonBlocking(_handle);
    }

    /// <summary>
    /// A sink for this request's connection, or null when its bytes must go through Kestrel. With
    /// <paramref name="ownsResponse"/> the caller writes the HTTP response head itself, so Kestrel
    /// must never write on this connection again: <see cref="Finish"/> then closes it.
    /// </summary>
    public static SocketSink? TryCreate(HttpContext context, bool ownsResponse)
    {
        if (!OperatingSystem.IsLinux()
            || context.Request.Protocol is not ("HTTP/1.1" or "HTTP/1.0")
            || context.Features.Get<ITlsConnectionFeature>() is not null
            || context.Features.Get<IConnectionSocketFeature>()?.Socket is not { SocketType: SocketType.Stream } socket)
        {
            return null;
        }
        return new SocketSink(socket, context, ownsResponse);
    }

    /// <summary>The connection's socket, for the WebSocket handshake to see Kestrel's 101 leave it.</summary>
    internal Socket Socket => _socket;

    /// <summary>Everything sent, then FIN (how a Connection: close body ends, or the server's side of a WebSocket close).</summary>
    public override void Finish()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        if (_ownsResponse)
        {
            // The response is ours, not Kestrel's: the connection must not be reused.
            _context.Abort();
        }
    }

    public override void Abort() => _context.Abort();

    protected override ValueTask WriteAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
    {
        var sent = Libc.SendNow(_handle, head.Span, body.Span, tail.Span);
        return sent == head.Length + body.Length + tail.Length
            ? ValueTask.CompletedTask
            : WriteRestAsync(head, body, tail, sent, cancellation);
    }

    protected override ValueTask WriteFrameAsync(ReadOnlyMemory<byte> head, Frame frame, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
    {
        if (!_nonBlocking || !frame.TryGetFileCopy(out var copy))
        {
            return WriteAsync(head, frame.Memory, tail, cancellation);
        }
        // A viewer framed as the file copy is (MJPEG) sends its whole part from the file; another
        // (WebSocket) sends its own head first. Comparing ~100 bytes costs far less than a call.
        var headInFile = head.Span.SequenceEqual(copy.Head.Span);
        var tailInFile = tail.Span.SequenceEqual(copy.Trailer.Span);
        var sent = Libc.SendNowFromFile(_handle, head.Span, frame.Span, tail.Span, copy.File, copy.Offset, headInFile, tailInFile);
        return sent == head.Length + frame.Length + tail.Length
            ? ValueTask.CompletedTask
            : WriteRestAsync(head, frame.Memory, tail, sent, cancellation);
    }

    public override bool SendsWithoutWaking => true;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteRestAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, long sent, CancellationToken cancellation)
    {
        await SendAllAsync(Skip(head, ref sent), cancellation).ConfigureAwait(false);
        await SendAllAsync(Skip(body, ref sent), cancellation).ConfigureAwait(false);
        await SendAllAsync(Skip(tail, ref sent), cancellation).ConfigureAwait(false);
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellation)
    {
        while (!bytes.IsEmpty)
        {
            var n = await _socket.SendAsync(bytes, SocketFlags.None, cancellation).ConfigureAwait(false);
            bytes = bytes[n..];
        }
    }

    private static ReadOnlyMemory<byte> Skip(ReadOnlyMemory<byte> bytes, ref long sent)
    {
        var skip = (int)Math.Min(sent, bytes.Length);
        sent -= skip;
        return bytes[skip..];
    }
}
