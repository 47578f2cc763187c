namespace VideoEdge.Viewers;

/// <summary>
/// The one place that knows a viewer's connection: the socket itself (<see cref="SocketSink"/>,
/// plain HTTP/1.x), a stream Kestrel frames further (<see cref="StreamSink"/>: TLS, HTTP/2), or the
/// outgoing WebSocket of <c>video-edge push</c>. One send at a time; a send cut short leaves the
/// peer's framing broken.
/// </summary>
public interface IByteSink
{
    /// <summary>Sends <paramref name="head"/>, <paramref name="body"/> and <paramref name="tail"/>, in that order, completely.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation);

    /// <summary>True when <see cref="TrySendNow"/> can send (the socket itself is below).</summary>
    bool SendsDirectly => false;

    /// <summary>
    /// Sends what the connection takes at once, without waiting — on the publishing thread, for a
    /// viewer that waits for frames (<see cref="Hub.IDirectReceiver"/>). Returns the bytes taken
    /// (all, or a part that <see cref="SendRestAsync"/> must finish before anything else is sent),
    /// 0 when the connection is full, or -1 when this sink cannot send now (no direct path, no room
    /// by the viewer's measured rate, or another send in progress).
    /// </summary>
    long TrySendNow(ReadOnlySpan<byte> head, ReadOnlySpan<byte> body, ReadOnlySpan<byte> tail) => -1;

    /// <summary>Finishes a message <see cref="TrySendNow"/> sent the first <paramref name="sent"/> bytes of.</summary>
    ValueTask SendRestAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, long sent, CancellationToken cancellation)
        => throw new NotSupportedException("This sink never sends part of a message.");

    /// <summary>Nothing more will be sent: let the peer see the end once what was sent has left.</summary>
    void Finish();

    /// <summary>Drops the connection now (a stalled or abusive peer, or framing already broken).</summary>
    void Abort();

    /// <summary>
    /// A count that grows while the peer takes bytes: what it acknowledged (a TCP socket we can read),
    /// or what the stream below accepted. The viewer loop cuts a viewer only when this stands still
    /// for the send timeout. 0 when the sink cannot tell (the loop then counts whole sends).
    /// </summary>
    long Progress => 0;

    /// <summary>The measured rate the peer takes bytes at, in bytes per second; 0 when not known.</summary>
    double Rate => 0;

    /// <summary>
    /// Completes when what is still queued for the peer would drain within a small budget at its
    /// measured rate (<see cref="DeliveryRate"/>), so the next frame starts current. At once when the
    /// sink cannot tell.
    /// </summary>
    ValueTask WaitForRoomAsync(CancellationToken cancellation) => ValueTask.CompletedTask;
}
