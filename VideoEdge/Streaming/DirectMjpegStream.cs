using System.Runtime.CompilerServices;
using System.Text;
using VideoEdge.Frames;

namespace VideoEdge.Streaming;

/// <summary>
/// An MJPEG response written by <see cref="DirectSocketSender"/> rather than Kestrel: the head with
/// every header the endpoint and middleware set, then one part per frame. The body ends when the
/// connection closes (Connection: close), so Kestrel never writes on this connection again and the
/// endpoint aborts it when the viewer leaves.
/// </summary>
public static class DirectMjpegStream
{
    private static readonly byte[] s_trailer = Encoding.ASCII.GetBytes("\r\n--" + MjpegWriter.Boundary + "\r\n");

    public static ValueTask StartAsync(DirectSocketSender sender, HttpResponse response, CancellationToken cancellation)
    {
        var head = new StringBuilder("HTTP/1.1 200 OK\r\n");
        foreach (var (name, values) in response.Headers)
        {
            foreach (var value in values)
            {
                head.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }
        head.Append("Connection: close\r\n\r\n");
        return sender.SendAsync(Encoding.ASCII.GetBytes(head.ToString()), MjpegWriter.Preamble.ToArray(), ReadOnlyMemory<byte>.Empty, cancellation);
    }

    /// <summary>One part per frame: its headers, the frame's own buffer, the next boundary — one sendmsg.</summary>
    public sealed class PartWriter(DirectSocketSender sender) : IFrameWriter
    {
        private readonly byte[] _header = new byte[MjpegWriter.MaxHeaderBytes];

        public ValueTask WriteAsync(Frame frame, CancellationToken cancellation)
        {
            var n = MjpegWriter.WritePartHeader(_header, frame.Length, frame.TimestampMicros, frame.Sequence);
            return sender.SendAsync(_header.AsMemory(0, n), frame.Memory, s_trailer, cancellation);
        }

        /// <summary>Ends the body (Connection: close) after the last part.</summary>
        public void Finish() => sender.Finish();
    }
}
