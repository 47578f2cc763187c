using System.Net.Http.Json;

namespace VideoEdge.Bench.Harness;

/// <summary>The parts of VideoEdge's /api/state the bench reads.</summary>
public sealed record VideoEdgeState(VideoEdgeProcess Process, VideoEdgePool Pool, VideoEdgeFrames? Frames, VideoEdgeSource? Source);

/// <summary>Frames the camera received (captured) and no-signal pictures it showed.</summary>
public sealed record VideoEdgeFrames(long Captured, long NoSignal);

/// <summary>"live", "idle" (switched off by --on-demand) or "offline".</summary>
public sealed record VideoEdgeSource(string? State);

public sealed record VideoEdgeProcess(long WorkingSetBytes, long ManagedHeapBytes, long AllocatedBytes, int Gen0Collections, int Gen1Collections, int Gen2Collections, int ThreadCount);

public sealed record VideoEdgePool(long Rented, long Returned, long Outstanding, long Misuse);

internal static class VideoEdgeStateReader
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public static VideoEdgeState? Read(int port)
    {
        try
        {
            return s_http.GetFromJsonAsync($"http://127.0.0.1:{port}/api/state", BenchJson.Default.VideoEdgeState).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
