using System.Net.Sockets;
using VideoEdge.Interop;
using VideoEdge.Tests.Infrastructure;
using static VideoEdge.Tests.V4l2.V4l2StructLayoutTests;

namespace VideoEdge.Tests.Interop;

/// <summary>
/// Our C# mirrors of the structs Interop/ hands to libc and the kernel (sendmsg's msghdr and iovec,
/// poll's pollfd, clock_gettime's timespec, statx, the tcp_info fields we read) against gcc's view of
/// the system headers on this machine (fakecam/libc_structs.c): every size and offset it prints must match.
/// </summary>
public sealed class LibcStructLayoutTests
{
    private static readonly Dictionary<string, Mirror> Structs = new()
    {
        ["iovec"] = Of<Libc.IoVec>(("iov_base", "Base"), ("iov_len", "Length")),
        ["msghdr"] = Of<Libc.MsgHdr>(("msg_name", "Name"), ("msg_namelen", "NameLength"), ("msg_iov", "Iov"),
            ("msg_iovlen", "IovLength"), ("msg_control", "Control"), ("msg_controllen", "ControlLength"), ("msg_flags", "Flags")),
        ["pollfd"] = Of<Libc.PollFd>(("fd", "Fd"), ("events", "Events"), ("revents", "Revents")),
        ["timespec"] = Of<Libc.TimeSpec>(("tv_sec", "Seconds"), ("tv_nsec", "Nanoseconds")),
        ["rlimit"] = Of<Libc.RLimit>(("rlim_cur", "Soft"), ("rlim_max", "Hard")),
        ["statx_timestamp"] = Of<Libc.StatxTimestamp>(("tv_sec", "Seconds"), ("tv_nsec", "Nanoseconds")),
        ["statx"] = Of<Libc.StatxResult>(("stx_mask", "Mask"), ("stx_mode", "Mode"), ("stx_ino", "Inode"), ("stx_size", "Size"),
            ("stx_atime", "AccessTime"), ("stx_mtime", "ModifyTime"), ("stx_rdev_major", "RdevMajor"), ("stx_dev_minor", "DevMinor"),
            ("stx_mnt_id", "MountId"), ("stx_dio_offset_align", "DioOffsetAlign")),
        ["tcp_info"] = Of<TcpInfo>(("tcpi_state", "State"), ("tcpi_rto", "Rto"), ("tcpi_snd_mss", "SndMss"), ("tcpi_unacked", "Unacked"),
            ("tcpi_lost", "Lost"), ("tcpi_retrans", "Retrans"), ("tcpi_rtt", "Rtt"), ("tcpi_rttvar", "RttVar"), ("tcpi_snd_cwnd", "SndCwnd"),
            ("tcpi_total_retrans", "TotalRetrans"), ("tcpi_pacing_rate", "PacingRate"), ("tcpi_bytes_acked", "BytesAcked"),
            ("tcpi_notsent_bytes", "NotSentBytes"), ("tcpi_min_rtt", "MinRtt"), ("tcpi_delivery_rate", "DeliveryRate"),
            ("tcpi_busy_time", "BusyTime"), ("tcpi_sndbuf_limited", "SndbufLimited"), ("tcpi_delivered", "Delivered"),
            ("tcpi_bytes_sent", "BytesSent"), ("tcpi_bytes_retrans", "BytesRetrans"), ("tcpi_snd_wnd", "SndWnd")),
    };

    [Fact]
    public void EveryStructPassedToTheKernelMatchesTheCompiler()
    {
        var layout = CLayout("libc_structs");
        Assert.True(layout.Count > 50, "the layout program printed too little");
        AssertMirrorsMatch(Structs, layout);
        // Every field a mirror names is checked by the compiler, not just declared.
        Assert.Equal(Structs.Sum(s => s.Value.Fields.Count), layout.Count(l => l.Member != "size"));
    }

    [Fact]
    public async Task TcpInfoReadsWhatTheKernelCountsOnARealConnection()
    {
        using var pair = await LoopbackPair.ConnectAsync();
        var (client, server) = (pair.Client, pair.Server);

        const int Bytes = 100_000;
        var payload = new byte[Bytes];
        var sending = server.SendAsync(payload, SocketFlags.None);
        var received = 0;
        var buffer = new byte[65536];
        while (received < Bytes)
        {
            received += await client.ReceiveAsync(buffer, SocketFlags.None);
        }
        Assert.Equal(Bytes, await sending);

        // The peer has everything; its acknowledgement follows within a round trip (generous bound: a loaded machine).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        TcpInfo info;
        int length;
        while (true)
        {
            Assert.True(TcpInfo.TryRead(server, out info, out length));
            if (info.BytesAcked >= Bytes || DateTime.UtcNow > deadline)
            {
                break;
            }
            await Task.Delay(20);
        }
        Assert.True(length >= TcpInfo.EndOf(ref info, ref info.BytesRetrans), $"the kernel filled only {length} bytes");
        Assert.Equal(1, info.State); // TCP_ESTABLISHED
        Assert.InRange(info.BytesAcked, (ulong)Bytes, (ulong)Bytes + 1);
        Assert.Equal((ulong)Bytes, info.BytesSent - info.BytesRetrans);
        Assert.Equal(0u, info.NotSentBytes);
        Assert.True(info.SndMss > 0 && info.SndCwnd > 0 && info.Rtt > 0, $"mss {info.SndMss}, cwnd {info.SndCwnd}, rtt {info.Rtt}");

        client.Dispose();
        server.Dispose();
        Assert.False(TcpInfo.TryRead(server, out _, out _));
    }
}
