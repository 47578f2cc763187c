namespace VideoEdge.Bus;

/// <summary>
/// The bus's wire contract. Per camera, PREFIX.cam.NAME.frames carries one JPEG per message (headers:
/// sequence, capture time, size) and PREFIX.cam.NAME.demand carries empty "someone is watching" beats
/// from hubs. Camera names ([a-z0-9_-]) are valid subject tokens as they are.
/// </summary>
public static class BusSubjects
{
    public const string DefaultPrefix = "videoedge";

    /// <summary>The producer's own frame counter: contiguous while it sends, so gaps show loss.</summary>
    public const string SequenceHeader = "Ve-Seq";

    /// <summary>Capture time, microseconds since the Unix epoch: hubs keep it, so X-Timestamp matches on every hub.</summary>
    public const string TimeHeader = "Ve-Time";

    /// <summary>JPEG size in bytes, checked against the payload.</summary>
    public const string SizeHeader = "Ve-Size";

    /// <summary>A hub sends a beat this often while it has demand for a camera.</summary>
    public static readonly TimeSpan DemandInterval = TimeSpan.FromSeconds(1);

    /// <summary>A producer sends while it heard a beat this recently: a hub that died stops counting after it.</summary>
    public static readonly TimeSpan DemandTimeout = TimeSpan.FromSeconds(3);

    public static string Frames(string prefix, string camera) => $"{prefix}.cam.{camera}.frames";

    public static string Demand(string prefix, string camera) => $"{prefix}.cam.{camera}.demand";

    public static bool IsToken(string text) =>
        text.Length is > 0 and <= 64 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}
