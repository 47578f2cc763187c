using System.Globalization;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using VideoEdge.Cameras;
using VideoEdge.Frames;
using VideoEdge.Hub;

namespace VideoEdge.Bus;

/// <summary>
/// Publishes one local camera on the bus (`video-edge push --to nats://…/NAME`, or a hub's
/// --publish-to-bus). Frames flow only while some hub has asked for them within
/// <see cref="BusSubjects.DemandTimeout"/>: then the publisher watches the local camera like a viewer
/// (so the source encodes), otherwise it does not (so it stops encoding too), and a hub that died
/// stops counting once its beats stop. Core NATS is at-most-once and so is this: one publish at a
/// time, always of the latest frame, nothing queued while the bus is down.
/// </summary>
public sealed partial class BusPublisher(Camera camera, BusConnection bus, ILogger logger)
{
    /// <summary>Room kept for the headers (HPUB counts them in max_payload).</summary>
    private const int HeaderAllowance = 256;

    private readonly string _framesSubject = BusSubjects.Frames(bus.Prefix, camera.Name);
    private readonly string _demandSubject = BusSubjects.Demand(bus.Prefix, camera.Name);
    private readonly SemaphoreSlim _demandStarted = new(0);
    private long _lastDemandTick;
    private long _sequence;
    private long _tooLarge;

    /// <summary>What was sent, as the local hub counts it for any viewer (shows in /api/state).</summary>
    public ViewerCounters Link { get; } = new("bus", bus.Servers);

    /// <summary>Frames not published because they exceed the server's max_payload.</summary>
    public long TooLarge => Interlocked.Read(ref _tooLarge);

    private bool HasDemand
    {
        get
        {
            var last = Volatile.Read(ref _lastDemandTick);
            return last != 0 && Environment.TickCount64 - last < (long)BusSubjects.DemandTimeout.TotalMilliseconds;
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        NatsConnection connection;
        try
        {
            connection = await bus.ConnectedAsync(stop);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        LogPublishing(logger, camera.Name, _framesSubject, bus.Servers);
        var listening = ListenAsync(connection, stop);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (!HasDemand)
                {
                    await _demandStarted.WaitAsync(stop);
                    continue;
                }
                LogDemand(logger, camera.Name, "a hub has a viewer: sending");
                using (var run = CancellationTokenSource.CreateLinkedTokenSource(stop))
                {
                    var watching = EndWhenDemandLapsesAsync(run);
                    try
                    {
                        await SendLatestFramesAsync(connection, run.Token);
                    }
                    catch (OperationCanceledException) when (run.IsCancellationRequested)
                    {
                    }
                    await run.CancelAsync();
                    await watching;
                }
                if (!stop.IsCancellationRequested)
                {
                    LogDemand(logger, camera.Name, "no hub has a viewer: not encoding or sending");
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        await listening;
        LogStopped(logger, camera.Name, Link.FramesSent, TooLarge);
    }

    /// <summary>Any message on the demand subject is a beat; its payload is not read.</summary>
    private async Task ListenAsync(NatsConnection connection, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await foreach (var _ in connection.SubscribeAsync(_demandSubject, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: stop))
                {
                    var wasIdle = !HasDemand;
                    Volatile.Write(ref _lastDemandTick, Environment.TickCount64);
                    if (wasIdle)
                    {
                        _demandStarted.Release();
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogSubscriptionFailed(logger, camera.Name, ex.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task EndWhenDemandLapsesAsync(CancellationTokenSource run)
    {
        try
        {
            while (HasDemand)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), run.Token);
            }
            await run.CancelAsync();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SendLatestFramesAsync(NatsConnection connection, CancellationToken run)
    {
        // What the hub holds now may be from before the pause: start with the next one.
        using var subscription = camera.Hub.Subscribe(Link, run, onlyNewer: true);
        while (true)
        {
            using var lease = await subscription.NextAsync();
            if (!lease.HasFrame)
            {
                return;
            }
            run.ThrowIfCancellationRequested();
            var frame = lease.Frame;
            var skipped = subscription.Skipped;
            if (!bus.IsUp)
            {
                // Nothing is queued for a bus that is down: live frames are worthless later.
                continue;
            }
            if (frame.Length + HeaderAllowance > bus.MaxPayload)
            {
                CountTooLarge(frame.Length);
                continue;
            }
            var headers = new NatsHeaders
            {
                [BusSubjects.SequenceHeader] = (++_sequence).ToString(CultureInfo.InvariantCulture),
                [BusSubjects.TimeHeader] = frame.TimestampMicros.ToString(CultureInfo.InvariantCulture),
                [BusSubjects.SizeHeader] = frame.Length.ToString(CultureInfo.InvariantCulture),
            };
            try
            {
                // Completes once the bytes are in the client's write buffer: the frame can go back then.
                await connection.PublishAsync(_framesSubject, frame.Memory, headers, serializer: NatsRawSerializer<ReadOnlyMemory<byte>>.Default, cancellationToken: run);
                Link.CountSent(frame.Length, skipped);
            }
            catch (NatsException)
            {
                // The connection dropped under the publish: the client reconnects, the next frame goes then.
            }
        }
    }

    private void CountTooLarge(int length)
    {
        var count = Interlocked.Increment(ref _tooLarge);
        // Loud the first time and then now and then, not once per frame.
        if (count == 1 || count % 100 == 0)
        {
            LogTooLarge(logger, camera.Name, length, bus.MaxPayload, count);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: publishing on {Subject} at {Servers} while a hub asks for it")]
    private static partial void LogPublishing(ILogger logger, string camera, string subject, string servers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: {What}")]
    private static partial void LogDemand(ILogger logger, string camera, string what);

    [LoggerMessage(Level = LogLevel.Error, Message = "Camera {Camera}: a {Bytes}-byte frame does not fit the NATS server's max_payload of {MaxPayload} bytes; not sent ({Count} so far). Raise max_payload in the server's configuration (e.g. `max_payload: 8MB`), or lower --resolution/--quality.")]
    private static partial void LogTooLarge(ILogger logger, string camera, int bytes, long maxPayload, long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Camera {Camera}: demand subscription ended ({Reason}); subscribing again")]
    private static partial void LogSubscriptionFailed(ILogger logger, string camera, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: stopped publishing on the bus; {Frames} frames sent, {TooLarge} too large for the server")]
    private static partial void LogStopped(ILogger logger, string camera, long frames, long tooLarge);
}
