namespace VideoEdge.Bench.Load;

/// <summary>One load run, sent by the driver to the client process as a JSON line.</summary>
public sealed record LoadSpec
{
    public int Port { get; init; }
    public string Path { get; init; } = "/stream";
    /// <summary>"mjpeg" or "ws".</summary>
    public string Transport { get; init; } = "mjpeg";
    public int Clients { get; init; }
    public int SlowClients { get; init; }
    public double SlowBytesPerSecond { get; init; } = 20_000;
    /// <summary>SO_RCVBUF of slow viewers (0 = kernel default): how much a slow link holds in flight.</summary>
    public int SlowReceiveBuffer { get; init; }
    public double WarmupSeconds { get; init; } = 2;
    public double MeasureSeconds { get; init; } = 5;
    public int Threads { get; init; } = 1;
    public double CameraFps { get; init; } = 30;
}

/// <summary>What the viewers saw inside the window.</summary>
public sealed record LoadResult
{
    public int Clients { get; init; }
    public int SlowClients { get; init; }
    public int Failed { get; init; }
    public string[] Errors { get; init; } = [];
    public double WindowSeconds { get; init; }
    public long DeliveredFrames { get; init; }
    public long DeliveredBytes { get; init; }
    public long CapturedFrames { get; init; }
    public long FramesWithoutStamp { get; init; }
    public double FastMinFps { get; init; }
    public double FastMedianFps { get; init; }
    public double FastMeanFps { get; init; }
    /// <summary>Worst fast viewer: frames captured in the window that it received, over all captured.</summary>
    public double FastMinCapturedShare { get; init; }
    public int FastBelow99 { get; init; }
    public long FastGaps { get; init; }
    public double LatencyP50Ms { get; init; }
    public double LatencyP99Ms { get; init; }
    public double LatencyMaxMs { get; init; }
    public long LatencySamples { get; init; }
    public double SlowMeanFps { get; init; }
    public double SlowAgeStartP50Ms { get; init; }
    public double SlowAgeStartMaxMs { get; init; }
    public double SlowAgeEndP50Ms { get; init; }
    public double SlowAgeEndMaxMs { get; init; }
    public long SlowFrames { get; init; }
}
