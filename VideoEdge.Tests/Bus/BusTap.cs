using System.Collections.Concurrent;
using System.Globalization;
using NATS.Client.Core;
using VideoEdge.Bus;

namespace VideoEdge.Tests.Bus;

/// <summary>What the producers put on the bus, as a NATS subscriber sees it: the reference the hubs' viewers are judged against.</summary>
public sealed class BusTap : IAsyncDisposable
{
    private readonly NatsConnection _connection;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _reading = [];

    public sealed record BusFrame(long Sequence, string Timestamp, byte[] Jpeg, DateTime ReceivedUtc);

    /// <summary>Per camera: frames by their X-Timestamp text (what hubs stamp on the MJPEG part).</summary>
    public ConcurrentDictionary<string, ConcurrentDictionary<string, BusFrame>> Frames { get; } = new();

    private BusTap(NatsConnection connection) => _connection = connection;

    public static Task<BusTap> StartAsync(string url, params string[] cameras) => StartAsync(new NatsOpts { Url = url }, cameras);

    /// <summary>With the server's login and TLS settings in <paramref name="opts"/> (its reconnect settings are the tap's own).</summary>
    public static async Task<BusTap> StartAsync(NatsOpts opts, params string[] cameras)
    {
        var connection = new NatsConnection(opts with { MaxReconnectRetry = -1, ReconnectWaitMin = TimeSpan.FromMilliseconds(200) });
        await connection.ConnectAsync();
        var tap = new BusTap(connection);
        foreach (var camera in cameras)
        {
            var frames = tap.Frames.GetOrAdd(camera, _ => new());
            var subscription = await connection.SubscribeCoreAsync(BusSubjects.Frames(BusSubjects.DefaultPrefix, camera), serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: tap._stop.Token);
            tap._reading.Add(Task.Run(async () =>
            {
                try
                {
                    await foreach (var m in subscription.Msgs.ReadAllAsync(tap._stop.Token))
                    {
                        var seq = long.Parse(m.Headers![BusSubjects.SequenceHeader].ToString(), CultureInfo.InvariantCulture);
                        var micros = long.Parse(m.Headers[BusSubjects.TimeHeader].ToString(), CultureInfo.InvariantCulture);
                        var stamp = $"{micros / 1_000_000}.{micros % 1_000_000:D6}";
                        frames[stamp] = new BusFrame(seq, stamp, m.Data!, DateTime.UtcNow);
                    }
                }
                catch (OperationCanceledException)
                {
                }
            }));
        }
        await connection.PingAsync();
        return tap;
    }

    public int CountSince(string camera, DateTime since) => Frames[camera].Values.Count(f => f.ReceivedUtc >= since);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_reading);
        await _connection.DisposeAsync();
    }
}
