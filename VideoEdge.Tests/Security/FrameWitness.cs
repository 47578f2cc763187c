using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>What a witness viewer saw: frames received against the sequence numbers the server published meanwhile.</summary>
internal sealed record WitnessReport(int Frames, long FirstSequence, long LastSequence, TimeSpan LongestGap, TimeSpan Duration, Exception? Error)
{
    /// <summary>Share of the frames published while watching that this viewer received (1 = none skipped).</summary>
    public double ReceivedShare => LastSequence > FirstSequence ? Frames / (double)(LastSequence - FirstSequence + 1) : 0;

    public double Fps => Duration.TotalSeconds > 0 ? Frames / Duration.TotalSeconds : 0;

    public override string ToString() =>
        $"witness: {Frames} frames in {Duration.TotalSeconds:0.0} s ({Fps:0.0} fps), sequences {FirstSequence}..{LastSequence} " +
        $"({ReceivedShare:P1} of those published), longest gap {LongestGap.TotalMilliseconds:0} ms{(Error is null ? "" : ", error: " + Error.Message)}";

    /// <summary>The witness kept streaming throughout, at the source's rate, without a long stall.</summary>
    public void AssertUndisturbed(ITestOutputHelper output, double minShare = 0.9, double maxGapSeconds = 1.5)
    {
        output.WriteLine(ToString());
        Assert.True(Error is null, "the witness viewer's stream broke: " + Error);
        Assert.True(Frames > 10, ToString());
        Assert.True(ReceivedShare >= minShare, "the witness missed frames the server published: " + this);
        Assert.True(LongestGap.TotalSeconds <= maxGapSeconds, "the witness stalled: " + this);
    }
}

/// <summary>
/// A viewer that watches /stream.mjpg over a raw socket for the length of a test and counts every
/// frame, to prove that whatever else the test throws at the server does not disturb real viewers.
/// </summary>
internal sealed class FrameWitness : IAsyncDisposable
{
    private readonly RawConnection _connection;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<WitnessReport> _loop;

    private FrameWitness(RawConnection connection)
    {
        _connection = connection;
        _loop = Task.Run(WatchAsync);
    }

    /// <summary>Starts watching from its own loopback address, so per-address limits of other clients do not touch it.</summary>
    public static async Task<FrameWitness> StartAsync(Uri server, string pathAndQuery = "/stream.mjpg")
    {
        var connection = await RawConnection.ConnectAsync(server, IPAddress.Parse("127.0.0.254"));
        await connection.SendAsync(RawConnection.Get(pathAndQuery));
        var head = await connection.ReadHeadAsync();
        Assert.Equal(200, head.Status);
        return new FrameWitness(connection);
    }

    private async Task<WitnessReport> WatchAsync()
    {
        var frames = 0;
        long first = 0;
        long last = 0;
        var clock = Stopwatch.StartNew();
        var previous = TimeSpan.Zero;
        var longest = TimeSpan.Zero;
        Exception? error = null;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var (sequence, _) = await _connection.ReadMjpegPartAsync(_stop.Token);
                var now = clock.Elapsed;
                if (frames == 0)
                {
                    first = sequence;
                    clock.Restart();
                    now = TimeSpan.Zero;
                }
                else if (now - previous > longest)
                {
                    longest = now - previous;
                }
                previous = now;
                last = sequence;
                frames++;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            error = ex;
        }
        return new WitnessReport(frames, first, last, longest, previous, error);
    }

    public async Task<WitnessReport> StopAsync()
    {
        await _stop.CancelAsync();
        return await _loop;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        await _connection.DisposeAsync();
        _stop.Dispose();
    }
}
