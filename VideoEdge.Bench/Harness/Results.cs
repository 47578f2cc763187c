using VideoEdge.Bench.Load;

namespace VideoEdge.Bench.Harness;

/// <summary>One measurement window of one server.</summary>
public sealed record Measurement
{
    public required string Group { get; init; }
    public required string Scenario { get; init; }
    public required ServerKind Server { get; init; }
    public int Rep { get; init; }
    public required string Resolution { get; init; }
    public required string Format { get; init; }
    public int Clients { get; init; }
    public int SlowClients { get; init; }
    public double CpuSeconds { get; init; }
    public double ViewerCpuSeconds { get; init; }
    public long IdleRssBytes { get; init; }
    public long RssStartBytes { get; init; }
    public long RssBytes { get; init; }
    public long PeakRssBytes { get; init; }
    public long? AllocatedBytes { get; init; }
    public int? Gen0 { get; init; }
    public int? Gen1 { get; init; }
    public int? Gen2 { get; init; }
    public long? PoolOutstanding { get; init; }
    /// <summary>Frames the server took in (captured, or received from a producer) inside the window.</summary>
    public long? ReceivedFrames { get; init; }
    public required LoadResult Load { get; init; }

    public double CpuPer1000Frames => Load.DeliveredFrames == 0 ? double.NaN : CpuSeconds / Load.DeliveredFrames * 1000;
    public double CpuShare => CpuSeconds / Load.WindowSeconds;
    public double ViewerCpuShare => ViewerCpuSeconds / Load.WindowSeconds;
    public double? AllocatedPerFrame => AllocatedBytes is { } a && Load.DeliveredFrames > 0 ? (double)a / Load.DeliveredFrames : null;
    public double? AllocatedPerReceivedFrame => AllocatedBytes is { } a && ReceivedFrames is > 0 and { } r ? (double)a / r : null;
}

/// <summary>Process start → first complete picture.</summary>
public sealed record StartupMeasurement(ServerKind Server, string Source, int Rep, double Milliseconds, long RssBytes);

/// <summary>
/// A camera switched off by --on-demand: first request (an MJPEG viewer connecting) → its first complete picture
/// captured after the request (X-Timestamp); <paramref name="OlderParts"/> pictures from before came first.
/// <paramref name="NoSignal"/> counts no-signal pictures the server made meanwhile; <paramref name="CameraFrame"/> is
/// whether the picture carried the fake camera's stamp (null where the source has none).
/// </summary>
public sealed record WakeMeasurement(string Source, int Rep, double Milliseconds, long? NoSignal, bool? CameraFrame, int OlderParts = 0);

/// <summary>Everything one bench run produced (saved as results.json).</summary>
public sealed record BenchReport
{
    public required DateTimeOffset Started { get; init; }
    public required double DurationSeconds { get; init; }
    public required string Command { get; init; }
    public required Dictionary<string, string> Machine { get; init; }
    public required List<Measurement> Measurements { get; init; }
    public required List<StartupMeasurement> Startups { get; init; }
    public List<WakeMeasurement> Wakes { get; init; } = [];
}
