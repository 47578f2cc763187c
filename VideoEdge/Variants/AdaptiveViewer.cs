using Microsoft.Extensions.Logging;
using VideoEdge.Api;
using VideoEdge.Cameras;
using VideoEdge.Hub;
using VideoEdge.Frames;
using VideoEdge.Viewers;

namespace VideoEdge.Variants;

/// <summary>
/// Runs a stream viewer (/stream.mjpg, /ws) on its camera's frames — or, with <c>?adapt=1</c>, on the
/// largest rung of a short ladder of variants (full, ½ and ¼ width, then a lower quality) whose frames
/// reach this viewer within the age target (<c>?maxage=</c> seconds, 1 by default) at the rate its
/// connection measures (<see cref="ByteSink.Rate"/>). It steps down as soon as the current rung misses
/// the target (after a short dwell) and up only when the next one fits with room to spare and the
/// viewer has stayed a while, so it does not flap. Only on request: ffmpeg and OpenCV break when the
/// picture size changes mid-stream.
/// </summary>
public static partial class AdaptiveViewer
{
    public const double DefaultMaxAge = 1;

    /// <summary>Each rung's frame size as a share of the full picture's at the same quality (JPEG, typical scenes); the measured rung recalibrates the rest.</summary>
    private static readonly double[] SizeShare = [1, 0.3, 0.1, 0.05];

    /// <summary>What a frame costs besides its transfer: the drain budget, an encode, the round trip.</summary>
    private const double Overhead = 0.3;
    private static readonly TimeSpan Look = TimeSpan.FromMilliseconds(500);
    private const long DownDwellMs = 1500;
    private const long UpDwellMs = 4000;
    /// <summary>Up only when the larger rung would use at most this share of the age target.</summary>
    private const double UpMargin = 0.6;

    /// <summary>?adapt= and ?maxage=: the age target in seconds (0: not adaptive), or a 400 problem.</summary>
    public static bool TryRead(HttpContext context, out double maxAge, out ApiProblem? problem)
    {
        maxAge = 0;
        if (!ViewerRequest.TryReadFlag(context, "adapt", out var adapt, out problem))
        {
            return false;
        }
        var target = DefaultMaxAge;
        if (!ViewerRequest.TryReadNumber(context, "maxage", 0.2, 60, "seconds from 0.2 to 60 (with adapt=1: how old a frame may be when it arrives)", ref target, out problem))
        {
            return false;
        }
        maxAge = adapt ? target : 0;
        return true;
    }

    /// <summary>
    /// Serves <paramref name="client"/> until it ends, on the camera's frames (<paramref name="maxAge"/> 0)
    /// or adaptively; logs how it ended. <paramref name="camera"/> may be a variant's view (?width=): then
    /// it is never adaptive.
    /// </summary>
    public static async Task<ViewerLoop.End> RunAsync(Camera camera, ViewerCounters client, IFramer framer, ByteSink sink, double fps, double maxAge,
        ILogger logger, CancellationToken cancellation)
    {
        var timeout = camera.Options.SendTimeout;
        if (maxAge <= 0 || camera.IsVariantView)
        {
            using var subscription = camera.Hub.Subscribe(client, cancellation);
            return await ViewerLoop.RunAsync(subscription, framer, sink, fps, timeout, camera.Stats, logger, cancellation).ConfigureAwait(false);
        }
        var ladder = Ladder(camera);
        var state = new Chooser(ladder.Length, maxAge);
        // Half width to start: the rate is not known yet, and a full frame on a slow link takes seconds.
        var rung = 1;
        while (true)
        {
            VariantSet.Lease? lease = null;
            if (ladder[rung] is { } key)
            {
                try
                {
                    lease = await camera.Variants.AcquireAsync(key, snapshot: false, cancellation).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
                {
                    return new ViewerLoop.End(ViewerLoop.EndReason.ClientGone, null);
                }
            }
            ViewerLoop.End end;
            int next;
            await using (lease)
            {
                var subscription = (lease?.Variant.Hub ?? camera.Hub).Subscribe(client, cancellation);
                state.Enter(rung, client);
                LogRung(logger, client.Id, ladder[rung]?.ToString() ?? "full");
                // The chooser ends the subscription to switch: the loop finishes the frame it is sending and returns.
                using var looking = new Timer(static s =>
                {
                    var (state, sink, subscription) = ((Chooser, ByteSink, Subscription))s!;
                    if (state.Decide(sink.Rate) >= 0)
                    {
                        subscription.Dispose();
                    }
                }, (state, sink, subscription), Look, Look);
                using (subscription)
                {
                    end = await ViewerLoop.RunAsync(subscription, framer, sink, fps, timeout, camera.Stats, null, cancellation).ConfigureAwait(false);
                }
                await looking.DisposeAsync().ConfigureAwait(false);
                next = state.Next;
            }
            if (next < 0 || end.Reason != ViewerLoop.EndReason.ClientGone || end.Error is not null || cancellation.IsCancellationRequested)
            {
                ViewerLoop.LogEnd(logger, client, end.Reason, timeout);
                return end;
            }
            rung = next;
        }
    }

    private static VariantKey?[] Ladder(Camera camera)
    {
        var width = 1280;
        using (var lease = camera.Hub.AcquireLatest())
        {
            if (lease.HasFrame && JpegHeader.TryReadSize(lease.Frame.Span, out var w, out _))
            {
                width = w;
            }
        }
        var quality = camera.Options.Quality;
        return [null, new VariantKey(width / 2 & ~1, quality), new VariantKey(width / 4 & ~1, quality), new VariantKey(width / 4 & ~1, Math.Min(quality, 50))];
    }

    /// <summary>The rung decision, made on a timer from the frames sent on the current rung and the measured rate.</summary>
    private sealed class Chooser(int rungs, double maxAge)
    {
        private readonly Lock _lock = new();
        private ViewerCounters? _client;
        private int _rung;
        private long _since;
        private long _framesAtStart;
        private long _bytesAtStart;
        private double _fullSize;

        /// <summary>The rung to switch to once the current run ends; -1: none.</summary>
        public int Next { get; private set; } = -1;

        public void Enter(int rung, ViewerCounters client)
        {
            lock (_lock)
            {
                _rung = rung;
                _client = client;
                _since = Environment.TickCount64;
                _framesAtStart = client.FramesSent;
                _bytesAtStart = client.BytesSent;
                Next = -1;
            }
        }

        /// <summary>Returns the rung to switch to, or -1 to stay.</summary>
        public int Decide(double rate)
        {
            lock (_lock)
            {
                if (Next >= 0 || _client is null)
                {
                    return -1;
                }
                if (rate <= 0)
                {
                    // No rate to go by (an HTTP/2 stream shares its socket with others): climb to the
                    // camera's picture and stay, as without adapt.
                    Next = _rung > 0 && Environment.TickCount64 - _since >= UpDwellMs ? _rung - 1 : -1;
                    return Next;
                }
                var frames = _client.FramesSent - _framesAtStart;
                if (frames >= 1)
                {
                    _fullSize = (_client.BytesSent - _bytesAtStart) / (double)frames / SizeShare[_rung];
                }
                if (_fullSize <= 0)
                {
                    return -1;
                }
                double Age(int rung) => _fullSize * SizeShare[rung] / rate + Overhead;
                var dwell = Environment.TickCount64 - _since;
                var choice = -1;
                if (Age(_rung) > maxAge && dwell >= DownDwellMs && _rung < rungs - 1)
                {
                    choice = _rung + 1;
                    while (choice < rungs - 1 && Age(choice) > maxAge)
                    {
                        choice++;
                    }
                }
                else if (_rung > 0 && dwell >= UpDwellMs && Age(_rung - 1) <= UpMargin * maxAge)
                {
                    choice = _rung - 1;
                }
                Next = choice;
                return choice;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Viewer {Id} adapts to {Variant}")]
    private static partial void LogRung(ILogger logger, long id, string variant);
}
