using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VideoEdge.Interop;

/// <summary>
/// struct tcp_info (linux/tcp.h), read with getsockopt(IPPROTO_TCP, TCP_INFO) through
/// <see cref="Socket.GetRawSocketOption"/>. The kernel only ever appends to it and fills as much as
/// it knows, so <see cref="TryRead"/> reports how many bytes are valid and each reader checks that its
/// field is inside them (<see cref="EndOf"/>). The two bit-field bytes after tcpi_options are one byte each here.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct TcpInfo
{
    public byte State;
    public byte CaState;
    public byte Retransmits;
    public byte Probes;
    public byte Backoff;
    public byte Options;
    public byte WindowScales;
    public byte DeliveryRateAppLimitedAndFastOpen;

    public uint Rto;
    public uint Ato;
    public uint SndMss;
    public uint RcvMss;

    public uint Unacked;
    public uint Sacked;
    public uint Lost;
    public uint Retrans;
    public uint Fackets;

    public uint LastDataSent;
    public uint LastAckSent;
    public uint LastDataRecv;
    public uint LastAckRecv;

    public uint Pmtu;
    public uint RcvSsthresh;
    /// <summary>Smoothed round-trip time, microseconds.</summary>
    public uint Rtt;
    public uint RttVar;
    public uint SndSsthresh;
    /// <summary>Congestion window, in segments of <see cref="SndMss"/>.</summary>
    public uint SndCwnd;
    public uint AdvMss;
    public uint Reordering;

    public uint RcvRtt;
    public uint RcvSpace;

    public uint TotalRetrans;

    public ulong PacingRate;
    public ulong MaxPacingRate;
    /// <summary>Bytes the peer has acknowledged.</summary>
    public ulong BytesAcked;
    public ulong BytesReceived;
    public uint SegsOut;
    public uint SegsIn;

    /// <summary>Bytes written to the socket and not yet sent.</summary>
    public uint NotSentBytes;
    public uint MinRtt;
    public uint DataSegsIn;
    public uint DataSegsOut;

    /// <summary>The kernel's latest delivery-rate sample, bytes per second.</summary>
    public ulong DeliveryRate;

    public ulong BusyTime;
    public ulong RwndLimited;
    public ulong SndbufLimited;

    public uint Delivered;
    public uint DeliveredCe;

    /// <summary>Bytes sent on the wire, retransmissions counted again.</summary>
    public ulong BytesSent;
    public ulong BytesRetrans;
    public uint DsackDups;
    public uint ReordSeen;

    public uint RcvOooPack;

    public uint SndWnd;

    /// <summary>This connection's tcp_info and how many of its bytes the kernel filled; false when the socket is gone or not TCP.</summary>
    public static bool TryRead(Socket socket, out TcpInfo info, out int length)
    {
        info = default;
        try
        {
            length = socket.GetRawSocketOption(TcpOptions.IpProtoTcp, TcpOptions.TcpInfo, MemoryMarshal.AsBytes(new Span<TcpInfo>(ref info)));
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            length = 0;
            return false;
        }
    }

    /// <summary>
    /// How many bytes anyone has written to this connection so far (sent, in flight or queued in the
    /// kernel), or null when the kernel does not say (Linux before 4.19). Lets a caller see that bytes
    /// Kestrel queued on its own send loop have reached the socket before writing past it.
    /// </summary>
    public static long? BytesWritten(Socket socket)
    {
        // Bytes sent on the wire (retransmissions counted again), less those, plus those not yet sent.
        if (!TryRead(socket, out var info, out var length) || length < EndOf(ref info, ref info.BytesRetrans))
        {
            return null;
        }
        return (long)(info.BytesSent - info.BytesRetrans) + info.NotSentBytes;
    }

    /// <summary>Where <paramref name="field"/> (a field of <paramref name="info"/>) ends: it is valid when that is within the length read.</summary>
    public static unsafe int EndOf<T>(ref TcpInfo info, ref T field) where T : unmanaged =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TcpInfo, byte>(ref info), ref Unsafe.As<T, byte>(ref field)) + sizeof(T);
}

/// <summary>TCP socket options (linux/tcp.h) that .NET has no name for, set through <see cref="Socket.SetRawSocketOption"/>.</summary>
internal static class TcpOptions
{
    public const int IpProtoTcp = 6;
    public const int TcpInfo = 11;
    public const int TcpNotSentLowAt = 25;

    /// <summary>TCP_NOTSENT_LOWAT: the kernel takes more of a write only while fewer than <paramref name="bytes"/> wait unsent.</summary>
    public static void SetNotSentLowWater(Socket socket, int bytes)
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        MemoryMarshal.Write(value, in bytes);
        socket.SetRawSocketOption(IpProtoTcp, TcpNotSentLowAt, value);
    }
}
