using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections.Features;

namespace VideoEdge.Viewers;

/// <summary>
/// A sink over a stream Kestrel frames: a response body, the stream of an upgraded HTTP/1.1
/// connection or of an HTTP/2 extended CONNECT (RFC 8441). Kestrel encrypts and frames what is
/// written, so the frame buffer is copied once into its pipe and flushed once per send.
/// Over HTTP/1.x (TLS) the connection is this viewer's alone, so its TCP socket measures the viewer's
/// rate and progress (<see cref="DeliveryRate"/>, counting our writes: Kestrel's pipe sits between).
/// An HTTP/2 connection carries other streams too (the page, other cameras): its socket's queue and
/// rate are not this viewer's, so there the viewer is not gated and its progress is what the stream
/// accepted (Kestrel applies HTTP/2 flow control per stream and connection).
/// </summary>
public sealed class StreamSink : ByteSink
{
    /// <summary>A frame goes down in pieces of this size, so a slow viewer shows progress within a frame.</summary>
    private const int Piece = 64 * 1024;

    private readonly Stream _stream;
    private readonly HttpContext _context;
    private long _accepted;

    public StreamSink(Stream stream, HttpContext context) : base(ViewersOwnConnection(context))
    {
        _stream = stream;
        _context = context;
    }

    private static DeliveryRate? ViewersOwnConnection(HttpContext context)
        => context.Request.Protocol is "HTTP/1.1" or "HTTP/1.0"
            && context.Features.Get<IConnectionSocketFeature>()?.Socket is { SocketType: SocketType.Stream } socket
            ? DeliveryRate.TryCreate(socket)
            : null;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected override async ValueTask WriteAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
    {
        await WritePieceAsync(head, cancellation).ConfigureAwait(false);
        while (!body.IsEmpty)
        {
            var n = Math.Min(Piece, body.Length);
            await WritePieceAsync(body[..n], cancellation).ConfigureAwait(false);
            body = body[n..];
        }
        if (!tail.IsEmpty)
        {
            await WritePieceAsync(tail, cancellation).ConfigureAwait(false);
        }
        await _stream.FlushAsync(cancellation).ConfigureAwait(false);
    }

    private async ValueTask WritePieceAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellation)
    {
        await _stream.WriteAsync(bytes, cancellation).ConfigureAwait(false);
        Interlocked.Add(ref _accepted, bytes.Length);
    }

    public override long Progress => Delivery?.Acked ?? Interlocked.Read(ref _accepted);

    /// <summary>Kestrel ends the response, connection (HTTP/1.1 upgrade) or stream (HTTP/2) when the request handler returns.</summary>
    public override void Finish()
    {
    }

    public override void Abort() => _context.Abort();
}
