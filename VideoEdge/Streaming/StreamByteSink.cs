using System.Runtime.CompilerServices;

namespace VideoEdge.Streaming;

/// <summary>
/// A sink over the stream Kestrel hands out for an upgraded HTTP/1.1 connection or an HTTP/2
/// extended CONNECT (RFC 8441): Kestrel encrypts and frames what is written, so the frame buffer is
/// copied once into its pipe and flushed once per send.
/// </summary>
public sealed class StreamByteSink(Stream stream) : IByteSink
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

    /// <summary>Kestrel ends the connection (HTTP/1.1) or the stream (HTTP/2) when the request handler returns.</summary>
    public void Finish()
    {
    }
}
