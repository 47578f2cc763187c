using System.Runtime.CompilerServices;
using VideoEdge.Frames;

namespace VideoEdge.Viewers;

/// <summary>
/// The one place that knows a viewer's connection: the socket itself (<see cref="SocketSink"/>,
/// plain HTTP/1.x), a stream Kestrel frames further (<see cref="StreamSink"/>: TLS, HTTP/2), or the
/// outgoing WebSocket of <c>video-edge push</c>. Messages go out one at a time and whole: a frame,
/// and a WebSocket pong or close from the receiving side, never land inside each other. A send cut
/// short (cancelled, failed) leaves the peer's framing broken, so nothing more is sent after it.
/// </summary>
/// <param name="delivery">
/// The kernel's view of the viewer's TCP connection (<see cref="DeliveryRate"/>) when the connection
/// is this viewer's alone: it then gates frames and measures progress. Null when not (HTTP/2, push).
/// </param>
public abstract class ByteSink(DeliveryRate? delivery = null)
{
    private readonly SemaphoreSlim _sending = new(1, 1);
    private volatile bool _ended;

    protected DeliveryRate? Delivery => delivery;

    /// <summary>False once a send was cut short or <see cref="SendLastAsync"/> sent the last message.</summary>
    public bool CanSend => !_ended;

    /// <summary>Sends <paramref name="head"/>, <paramref name="body"/> and <paramref name="tail"/>, in that order, completely, as one message.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
        => SendAsync(head, body, null, tail, last: false, cancellation);

    /// <summary>As <see cref="SendAsync(ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, ReadOnlyMemory{byte}, CancellationToken)"/> with a leased frame as the body.</summary>
    public ValueTask SendFrameAsync(ReadOnlyMemory<byte> head, Frame frame, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
        => SendAsync(head, frame.Memory, frame, tail, last: false, cancellation);

    /// <summary>Sends the last message (a WebSocket close: RFC 6455 section 5.5.1, nothing after it).</summary>
    public ValueTask SendLastAsync(ReadOnlyMemory<byte> message, CancellationToken cancellation)
        => SendAsync(message, default, null, default, last: true, cancellation);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, Frame? frame, ReadOnlyMemory<byte> tail, bool last, CancellationToken cancellation)
    {
        await _sending.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_ended, this);
            try
            {
                Delivery?.Wrote(head.Length + body.Length + tail.Length);
                await (frame is null ? WriteAsync(head, body, tail, cancellation) : WriteFrameAsync(head, frame, tail, cancellation)).ConfigureAwait(false);
            }
            catch
            {
                _ended = true;
                throw;
            }
            _ended = last;
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>
    /// True when a send costs one non-blocking system call while the connection has room (the socket
    /// itself is below), so the viewer's loop may run on the publishing thread (<see cref="Hub.Subscription.ResumeOnPublisher"/>).
    /// </summary>
    public virtual bool SendsWithoutWaking => false;

    /// <summary>Writes one whole message (the caller holds the send turn).</summary>
    protected abstract ValueTask WriteAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation);

    /// <summary>Writes one whole message whose body is <paramref name="frame"/>: a sink that can send the frame better than its bytes does so here.</summary>
    protected virtual ValueTask WriteFrameAsync(ReadOnlyMemory<byte> head, Frame frame, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
        => WriteAsync(head, frame.Memory, tail, cancellation);

    /// <summary>Nothing more will be sent: let the peer see the end once what was sent has left.</summary>
    public abstract void Finish();

    /// <summary>Drops the connection now (a stalled or abusive peer, or framing already broken).</summary>
    public abstract void Abort();

    /// <summary>
    /// A count that grows while the peer takes bytes: what it acknowledged (a TCP socket we can read),
    /// or what the stream below accepted. The viewer loop cuts a viewer only when this stands still
    /// for the send timeout. 0 when the sink cannot tell (the loop then counts whole sends).
    /// </summary>
    public virtual long Progress => Delivery?.Acked ?? 0;

    /// <summary>The measured rate the peer takes bytes at, in bytes per second; 0 when not known.</summary>
    public double Rate => Delivery?.Rate ?? 0;

    /// <summary>
    /// Completes when what is still queued for the peer would drain within a small budget at its
    /// measured rate (<see cref="DeliveryRate"/>), so the next frame starts current. At once when the
    /// sink cannot tell.
    /// </summary>
    public ValueTask WaitForRoomAsync(CancellationToken cancellation) => Delivery?.WaitForRoomAsync(cancellation) ?? ValueTask.CompletedTask;
}
