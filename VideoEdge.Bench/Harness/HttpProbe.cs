using System.Net.Sockets;
using System.Text;

namespace VideoEdge.Bench.Harness;

/// <summary>Raw HTTP/1.0 GETs for readiness and start-up timing (no HttpClient warm-up in the measurement).</summary>
internal static class HttpProbe
{
    /// <summary>
    /// The first complete JPEG at <paramref name="path"/> (a snapshot, or the first part of a
    /// multipart stream), or null when the server does not answer with one.
    /// </summary>
    public static async Task<byte[]?> FirstPictureAsync(int port, string path, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync("127.0.0.1", port, cts.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"), cts.Token);
            var buffer = new byte[1 << 22];
            var length = 0;
            while (length < buffer.Length)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(length), cts.Token);
                if (n == 0)
                {
                    break;
                }
                length += n;
                var data = buffer.AsSpan(0, length);
                if (!data.StartsWith("HTTP/1.0 200"u8) && !data.StartsWith("HTTP/1.1 200"u8))
                {
                    if (data.IndexOf("\r\n"u8) >= 0)
                    {
                        return null;
                    }
                    continue;
                }
                var soi = data.IndexOf([(byte)0xFF, (byte)0xD8]);
                if (soi < 0)
                {
                    continue;
                }
                var eoi = data[soi..].IndexOf([(byte)0xFF, (byte)0xD9]);
                if (eoi >= 0)
                {
                    return data.Slice(soi, eoi + 2).ToArray();
                }
            }
            return null;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// An MJPEG viewer of <paramref name="path"/> until the first complete part captured at or after
    /// <paramref name="notBeforeUnixSeconds"/> (its X-Timestamp): that part's JPEG, and how many older
    /// parts (a picture held from before) came first. Null when none arrives in time.
    /// </summary>
    public static async Task<(byte[] Jpeg, int OlderParts)?> FirstFreshPartAsync(int port, string path, double notBeforeUnixSeconds, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync("127.0.0.1", port, cts.Token);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"), cts.Token);
            var buffer = new byte[1 << 24];
            var length = 0;
            var scanned = 0;
            var older = 0;
            while (length < buffer.Length)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(length), cts.Token);
                if (n == 0)
                {
                    return null;
                }
                length += n;
                // Walk the parts: each header has X-Timestamp, then the JPEG (SOI … EOI).
                while (true)
                {
                    var data = buffer.AsSpan(scanned, length - scanned);
                    var at = data.IndexOf("X-Timestamp: "u8);
                    var lineEnd = at < 0 ? -1 : data[at..].IndexOf("\r\n"u8);
                    if (lineEnd < 0)
                    {
                        break;
                    }
                    var stamp = double.Parse(Encoding.ASCII.GetString(data.Slice(at + 13, lineEnd - 13)), System.Globalization.CultureInfo.InvariantCulture);
                    var soi = data[at..].IndexOf([(byte)0xFF, (byte)0xD8]);
                    var eoi = soi < 0 ? -1 : data[(at + soi)..].IndexOf([(byte)0xFF, (byte)0xD9]);
                    if (eoi < 0)
                    {
                        break;
                    }
                    if (stamp >= notBeforeUnixSeconds)
                    {
                        return (data.Slice(at + soi, eoi + 2).ToArray(), older);
                    }
                    older++;
                    scanned += at + soi + eoi + 2;
                }
            }
            return null;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            return null;
        }
    }
}
