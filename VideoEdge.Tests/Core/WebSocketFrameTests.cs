using System.Text;
using VideoEdge.Api;
using VideoEdge.Viewers;
using Result = VideoEdge.Viewers.WebSocketFrameReader.Result;

namespace VideoEdge.Tests.Core;

/// <summary>The direct WebSocket path's own framing: headers it writes, client frames it accepts or refuses.</summary>
public sealed class WebSocketFrameTests
{
    private static readonly byte[] s_mask = [0x37, 0xFA, 0x21, 0x3D];

    /// <summary>A client frame as RFC 6455 section 5.2 lays it out.</summary>
    private static byte[] ClientFrame(int opcode, byte[] payload, bool fin = true, bool mask = true, int rsv = 0, long? declared = null)
    {
        var frame = new List<byte> { (byte)((fin ? 0x80 : 0) | rsv << 4 | opcode) };
        var length = declared ?? payload.Length;
        var maskBit = mask ? 0x80 : 0;
        if ((ulong)length < 126)
        {
            frame.Add((byte)(maskBit | (int)length));
        }
        else if ((ulong)length <= ushort.MaxValue)
        {
            frame.AddRange([(byte)(maskBit | 126), (byte)(length >> 8), (byte)length]);
        }
        else
        {
            frame.Add((byte)(maskBit | 127));
            frame.AddRange(Enumerable.Range(0, 8).Select(i => (byte)(length >> (56 - 8 * i))));
        }
        if (mask)
        {
            frame.AddRange(s_mask);
        }
        frame.AddRange(payload.Select((b, i) => mask ? (byte)(b ^ s_mask[i % 4]) : b));
        return [.. frame];
    }

    private static Result ReadOne(WebSocketFrameReader reader, byte[] bytes) => reader.Read(bytes, out _, out _);

    [Theory]
    [InlineData(2, 0, "82-00")]
    [InlineData(1, 125, "81-7D")]
    [InlineData(2, 126, "82-7E-00-7E")]
    [InlineData(2, 65535, "82-7E-FF-FF")]
    [InlineData(2, 65536, "82-7F-00-00-00-00-00-01-00-00")]
    [InlineData(2, 121_345, "82-7F-00-00-00-00-00-01-DA-01")]
    [InlineData(10, 4, "8A-04")]
    public void Headers_are_final_unmasked_and_use_the_shortest_length(int opcode, long length, string expected)
    {
        var header = new byte[WebSocketFramer.MaxLength];
        var n = WebSocketFramer.Write(header, opcode, length);
        Assert.Equal(expected, BitConverter.ToString(header, 0, n));
    }

    [Fact]
    public void A_close_frame_carries_the_status_big_endian_and_the_reason()
    {
        var frame = new byte[WebSocketFramer.MaxLength + 125];
        var n = WebSocketFramer.WriteClose(frame, 1001, "server stopping");
        Assert.Equal([0x88, 17, 0x03, 0xE9, .. "server stopping"u8.ToArray()], frame[..n]);
    }

    [Fact]
    public void The_accept_key_is_the_one_in_RFC_6455() =>
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketEndpoint.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="));

    [Fact]
    public void A_masked_frame_is_unmasked_in_place_and_fully_consumed()
    {
        var reader = new WebSocketFrameReader(4096);
        var bytes = ClientFrame(9, "are you there"u8.ToArray());
        Assert.Equal(Result.Ping, reader.Read(bytes, out var consumed, out var payload));
        Assert.Equal(bytes.Length, consumed);
        Assert.Equal("are you there", Encoding.ASCII.GetString(bytes[payload]));
    }

    [Fact]
    public void A_frame_arriving_byte_by_byte_needs_more_until_its_last_byte()
    {
        var reader = new WebSocketFrameReader(4096);
        var bytes = ClientFrame(2, new byte[300]);
        for (var i = 0; i < bytes.Length; i++)
        {
            Assert.Equal(Result.NeedMore, reader.Read(bytes.AsSpan(0, i), out var consumed, out _));
            Assert.Equal(0, consumed);
        }
        Assert.Equal(Result.Message, ReadOne(reader, bytes));
    }

    [Fact]
    public void Two_frames_in_one_buffer_are_read_one_at_a_time()
    {
        var reader = new WebSocketFrameReader(4096);
        byte[] bytes = [.. ClientFrame(1, "frag"u8.ToArray(), fin: false), .. ClientFrame(0, "mented"u8.ToArray())];
        Assert.Equal(Result.Fragment, reader.Read(bytes, out var first, out _));
        Assert.Equal(Result.Message, reader.Read(bytes.AsSpan(first), out var second, out var payload));
        Assert.Equal(bytes.Length, first + second);
        Assert.Equal("mented", Encoding.ASCII.GetString(bytes.AsSpan(first)[payload]));
    }

    [Fact]
    public void A_control_frame_may_come_between_fragments()
    {
        var reader = new WebSocketFrameReader(4096);
        Assert.Equal(Result.Fragment, ReadOne(reader, ClientFrame(2, new byte[10], fin: false)));
        Assert.Equal(Result.Pong, ReadOne(reader, ClientFrame(10, [])));
        Assert.Equal(Result.Message, ReadOne(reader, ClientFrame(0, new byte[10])));
    }

    public static TheoryData<string, byte[]> Refused => new()
    {
        { "unmasked", ClientFrame(2, new byte[4], mask: false) },
        { "reserved bit", ClientFrame(1, "hi"u8.ToArray(), rsv: 4) },
        { "unknown opcode", ClientFrame(3, new byte[4]) },
        { "fragmented ping", ClientFrame(9, new byte[4], fin: false) },
        { "ping over 125 bytes", ClientFrame(9, new byte[126]) },
        { "continuation without a start", ClientFrame(0, new byte[4]) },
        { "invalid UTF-8 text", ClientFrame(1, [0xC3, 0x28, 0xA0, 0xA1]) },
        { "close with a 1-byte payload", ClientFrame(8, [3]) },
        { "close with status 1005", ClientFrame(8, [0x03, 0xED]) },
        { "close with an invalid UTF-8 reason", ClientFrame(8, [0x03, 0xE8, 0xFF]) },
        { "length with the top bit set", ClientFrame(2, [], declared: long.MinValue) },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Protocol_violations_are_refused(string what, byte[] bytes) =>
        Assert.True(ReadOne(new WebSocketFrameReader(4096), bytes) == Result.ProtocolError, what);

    [Fact]
    public void A_text_message_split_inside_a_character_is_valid_UTF8()
    {
        var reader = new WebSocketFrameReader(4096);
        var euro = "€"u8.ToArray();
        Assert.Equal(Result.Fragment, ReadOne(reader, ClientFrame(1, euro[..1], fin: false)));
        Assert.Equal(Result.Message, ReadOne(reader, ClientFrame(0, euro[1..])));
    }

    [Fact]
    public void A_new_message_before_the_last_one_ended_is_refused()
    {
        var reader = new WebSocketFrameReader(4096);
        Assert.Equal(Result.Fragment, ReadOne(reader, ClientFrame(2, new byte[4], fin: false)));
        Assert.Equal(Result.ProtocolError, ReadOne(reader, ClientFrame(2, new byte[4])));
    }

    [Fact]
    public void An_oversized_frame_is_refused_from_its_header_alone()
    {
        var reader = new WebSocketFrameReader(4096);
        var header = ClientFrame(2, [], declared: 1L << 62)[..10];
        Assert.Equal(Result.TooBig, reader.Read(header, out var consumed, out _));
        Assert.Equal(0, consumed);
        Assert.Equal(Result.TooBig, ReadOne(new WebSocketFrameReader(4096), ClientFrame(2, new byte[4097])));
    }

    [Fact]
    public void Fragments_count_towards_the_message_cap_and_exactly_the_cap_is_allowed()
    {
        var reader = new WebSocketFrameReader(4096);
        Assert.Equal(Result.Message, ReadOne(reader, ClientFrame(2, new byte[4096])));
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(Result.Fragment, ReadOne(reader, ClientFrame(i == 0 ? 2 : 0, new byte[500], fin: false)));
        }
        Assert.Equal(Result.Message, ReadOne(reader, ClientFrame(0, new byte[96])));
        Assert.Equal(Result.Fragment, ReadOne(reader, ClientFrame(1, new byte[4000], fin: false)));
        Assert.Equal(Result.TooBig, ReadOne(reader, ClientFrame(0, new byte[97])));
    }
}
