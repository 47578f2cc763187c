namespace VideoEdge.Streaming;

/// <summary>
/// Where a viewer's framed bytes go: the socket itself (<see cref="DirectSocketSender"/>, plain
/// HTTP/1.x) or a stream Kestrel frames further (<see cref="StreamByteSink"/>: TLS, HTTP/2).
/// One send at a time; a send cut short leaves the peer's framing broken.
/// </summary>
public interface IByteSink
{
    /// <summary>Sends <paramref name="head"/>, <paramref name="body"/> and <paramref name="tail"/>, in that order, completely.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation);

    /// <summary>Nothing more will be sent: let the peer see the end once what was sent has left.</summary>
    void Finish();
}
