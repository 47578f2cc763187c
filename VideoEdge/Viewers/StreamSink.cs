using System.Runtime.CompilerServices;

namespace VideoEdge.Viewers;

/// <summary>
/// A sink over a stream Kestrel frames: a response body, the stream of an upgraded HTTP/1.1
/// connection or of an HTTP/2 extended CONNECT (RFC 8441). Kestrel encrypts and frames what is
/// written, so the frame buffer is copied once into its pipe and flushed once per send.
/// </summary>
public sealed class StreamSink(Stream stream, HttpContext context) : IByteSink
{
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
    {
        await stream.WriteAsync(head, cancellation).ConfigureAwait(false);
        if (!body.IsEmpty)
        {
            await stream.WriteAsync(body, cancellation).ConfigureAwait(false);
        }
        if (!tail.IsEmpty)
        {
            await stream.WriteAsync(tail, cancellation).ConfigureAwait(false);
        }
        await stream.FlushAsync(cancellation).ConfigureAwait(false);
    }

    /// <summary>Kestrel ends the response, connection (HTTP/1.1 upgrade) or stream (HTTP/2) when the request handler returns.</summary>
    public void Finish()
    {
    }

    public void Abort() => context.Abort();
}
