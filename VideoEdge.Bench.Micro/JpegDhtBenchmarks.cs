using BenchmarkDotNet.Attributes;
using VideoEdge.Imaging;

namespace VideoEdge.Bench.Micro;

/// <summary>
/// The per-frame check of a camera's MJPEG frame, and the insertion of the standard Huffman tables
/// for cameras that send none. The frame is a synthetic baseline JPEG of webcam size.
/// </summary>
public class JpegDhtBenchmarks
{
    private byte[] _withTables = [];
    private byte[] _withoutTables = [];
    private byte[] _destination = [];

    [GlobalSetup]
    public void Setup()
    {
        _withoutTables = SyntheticJpeg(121_000, withTables: false);
        _withTables = SyntheticJpeg(121_000, withTables: true);
        _destination = new byte[JpegDht.LengthWithTables(_withoutTables.Length)];
    }

    [Benchmark]
    public JpegCheck InspectComplete() => JpegDht.Inspect(_withTables, out _, out _);

    [Benchmark]
    public int InspectAndInsertTables()
    {
        JpegDht.Inspect(_withoutTables, out var length, out var scan);
        return JpegDht.CopyWithTables(_withoutTables, length, scan, _destination);
    }

    /// <summary>
    /// SOI, APP0, DQT, SOF0, [DHT], SOS, entropy bytes, EOI. The entropy bytes hold no 0xFF, or with
    /// <paramref name="stuffed"/> FF 00 where an encoder writes an FF data byte and a restart marker every 4 KB.
    /// </summary>
    internal static byte[] SyntheticJpeg(int size, bool withTables, bool stuffed = false)
    {
        var bytes = new List<byte> { 0xFF, 0xD8 };
        void Segment(byte marker, int payload)
        {
            bytes.AddRange([0xFF, marker, (byte)((payload + 2) >> 8), (byte)(payload + 2)]);
            bytes.AddRange(new byte[payload]);
        }
        Segment(0xE0, 14);
        Segment(0xDB, 65);
        Segment(0xC0, 15);
        if (withTables)
        {
            bytes.AddRange(JpegDht.StandardTables.ToArray());
        }
        Segment(0xDA, 10);
        var scan = new byte[size - bytes.Count - 2];
        Random.Shared.NextBytes(scan);
        for (var i = 0; i < scan.Length; i++)
        {
            if (scan[i] == 0xFF && !stuffed)
            {
                scan[i] = 0x7F;
            }
        }
        if (!stuffed)
        {
            bytes.AddRange(scan);
        }
        for (var i = 0; stuffed && bytes.Count < size - 2; i++)
        {
            bytes.Add(scan[i]);
            if (scan[i] == 0xFF)
            {
                bytes.Add(0x00);
            }
            if (bytes.Count % 4096 == 0)
            {
                bytes.AddRange([0xFF, (byte)(0xD0 + (i & 7))]);
            }
        }
        bytes.AddRange([0xFF, 0xD9]);
        return [.. bytes];
    }
}
