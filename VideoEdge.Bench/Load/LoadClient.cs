using System.Text.Json;

namespace VideoEdge.Bench.Load;

/// <summary>
/// `clients`: the viewer process. Reads one <see cref="LoadSpec"/> JSON line at a time from stdin,
/// connects the viewers, warms up, prints START, measures, prints END, then prints
/// "RESULT {json}" and disconnects. The driver samples the server's counters at START and END.
/// </summary>
internal static class LoadClient
{
    public static int Run()
    {
        Interop.Libc.Initialize();
        string? line;
        while ((line = Console.In.ReadLine()) is not null)
        {
            if (line.Length == 0)
            {
                continue;
            }
            var spec = JsonSerializer.Deserialize(line, BenchJson.Default.LoadSpec)!;
            var result = Run(spec);
            Console.Out.WriteLine("RESULT " + JsonSerializer.Serialize(result, BenchJson.Default.LoadResult));
            Console.Out.Flush();
        }
        return 0;
    }

    private static LoadResult Run(LoadSpec spec)
    {
        var window = new LoadWindow();
        var threads = Math.Max(1, spec.Threads);
        var expected = (int)(spec.Clients * spec.CameraFps * (spec.MeasureSeconds + 1) / threads) + 64;
        var loops = Enumerable.Range(0, threads).Select(_ => new LoadLoop(window, spec.SlowBytesPerSecond, expected)).ToArray();
        // Slow viewers are spread evenly among the fast ones.
        var slowEvery = spec.SlowClients > 0 ? (double)spec.Clients / spec.SlowClients : 0;
        var slowSoFar = 0;
        for (var i = 0; i < spec.Clients; i++)
        {
            var slow = slowSoFar < spec.SlowClients && i >= (int)(slowSoFar * slowEvery);
            if (slow)
            {
                slowSoFar++;
            }
            loops[i % threads].Add(new LoadConnection(spec, slow, window));
        }
        foreach (var loop in loops)
        {
            loop.Start();
        }
        var all = loops.SelectMany(l => l.Connections).ToArray();
        // Every fast viewer should have its first picture before the clock starts.
        var deadline = Environment.TickCount64 + 15_000;
        while (Environment.TickCount64 < deadline && all.Any(c => !c.Slow && !c.Closed && c.FramesTotal == 0))
        {
            Thread.Sleep(20);
        }
        Thread.Sleep(TimeSpan.FromSeconds(spec.WarmupSeconds));
        var start = LoadWindow.NowNs();
        window.Open(start);
        Console.Out.WriteLine("START");
        Console.Out.Flush();
        Thread.Sleep(TimeSpan.FromSeconds(spec.MeasureSeconds));
        var end = LoadWindow.NowNs();
        window.Close(end);
        Console.Out.WriteLine("END");
        Console.Out.Flush();
        // Late arrivals of frames captured inside the window still count towards "received".
        Thread.Sleep(500);
        foreach (var loop in loops)
        {
            loop.Stop();
        }
        return Summarize(spec, window, all, (end - start) / 1e9);
    }

    private static LoadResult Summarize(LoadSpec spec, LoadWindow window, LoadConnection[] all, double seconds)
    {
        var fast = all.Where(c => !c.Slow).ToArray();
        var slow = all.Where(c => c.Slow).ToArray();
        var fastFps = fast.Select(c => c.FramesInWindow / seconds).Order().ToArray();
        var captured = window.CapturedFrames;
        var shares = fast.Select(c => captured == 0 ? 0 : (double)c.CapturedInWindowReceived / captured).ToArray();
        var latencies = window.Latencies();
        var (slowStart, slowEnd) = window.SlowAges();
        return new LoadResult
        {
            Clients = spec.Clients,
            SlowClients = spec.SlowClients,
            Failed = all.Count(c => c.Error is not null),
            Errors = [.. all.Where(c => c.Error is not null).Select(c => c.Error!).Distinct().Take(5)],
            WindowSeconds = seconds,
            DeliveredFrames = all.Sum(c => c.FramesInWindow),
            DeliveredBytes = all.Sum(c => c.BytesInWindow),
            CapturedFrames = captured,
            FramesWithoutStamp = all.Sum(c => c.FramesWithoutStamp),
            FastMinFps = fastFps.FirstOrDefault(),
            FastMedianFps = Stats.Median(fastFps),
            FastMeanFps = fastFps.Length == 0 ? 0 : fastFps.Average(),
            FastMinCapturedShare = shares.Length == 0 ? 0 : shares.Min(),
            FastBelow99 = shares.Count(s => s < 0.99),
            FastGaps = fast.Sum(c => c.GapsInWindow),
            LatencyP50Ms = Stats.PercentileMs(latencies, 0.50),
            LatencyP99Ms = Stats.PercentileMs(latencies, 0.99),
            LatencyMaxMs = latencies.Length == 0 ? 0 : latencies[^1] / 1e6,
            LatencySamples = latencies.Length,
            SlowMeanFps = slow.Length == 0 ? 0 : slow.Average(c => c.FramesInWindow / seconds),
            SlowFrames = slow.Sum(c => c.FramesInWindow),
            SlowAgeStartP50Ms = Stats.PercentileMs(slowStart, 0.50),
            SlowAgeStartMaxMs = slowStart.Length == 0 ? 0 : slowStart[^1] / 1e6,
            SlowAgeEndP50Ms = Stats.PercentileMs(slowEnd, 0.50),
            SlowAgeEndMaxMs = slowEnd.Length == 0 ? 0 : slowEnd[^1] / 1e6,
        };
    }
}
