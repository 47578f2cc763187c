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
}
