using VideoEdge.Tests.Infrastructure;
using VideoEdge.Tests.MultiCamera;

namespace VideoEdge.Tests.Bus;

/// <summary>What a producer says when the bus will not take it: wrong credentials, frames over max_payload.</summary>
[Collection(TimingSensitive.Name)]
public sealed class BusRefusalTests
{
    [Fact]
    public async Task A_producer_with_a_wrong_token_is_refused_and_says_why()
    {
        await using var nats = await ChildProcess.NatsServerAsync(token: "the-right-bus-token");
        var wrong = Path.GetTempFileName();
        await File.WriteAllTextAsync(wrong, "not-the-bus-token\n");
        try
        {
            await using var push = await ProcessServer.LaunchAsync(["push", "--source", "test", "--resolution", "160x120",
                "--to", $"nats://127.0.0.1:{nats.Port}/shed", "--bus-token-file", wrong]);
            await ChainTests.WaitUntilAsync(() => push.Output.Contains("refused our credentials"), "the producer said it was refused", 60);
            Assert.Contains("Authorization Violation", push.Output, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("--bus-token-file", push.Output);
            Assert.DoesNotContain("not-the-bus-token", push.Output);
            Assert.False(push.Process.HasExited, "the producer keeps retrying (the operator may fix the server's side)");
        }
        finally
        {
            File.Delete(wrong);
        }
    }

    [Fact]
    public async Task A_hub_with_the_right_token_file_gets_frames()
    {
        await using var nats = await ChildProcess.NatsServerAsync(token: "the-right-bus-token");
        var right = Path.GetTempFileName();
        await File.WriteAllTextAsync(right, "the-right-bus-token\n");
        try
        {
            var bus = $"nats://127.0.0.1:{nats.Port}";
            await using var push = await ProcessServer.LaunchAsync(["push", "--source", "test", "--resolution", "160x120", "--to", bus + "/shed", "--bus-token-file", right]);
            await using var hub = await EdgeTestServer.StartAsync("--camera", "shed=bus", "--bus", bus, "--bus-token-file", right, "--bus-frame-timeout", "10");
            await using var viewer = await MjpegClient.ConnectAsync(hub.BaseUrl + "/cams/shed/stream.mjpg");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (hub.Cameras.All[0].Stats.Passthrough < 5)
            {
                await viewer.ReadPartAsync(timeout.Token);
            }
            Assert.DoesNotContain("refused", push.Output);
        }
        finally
        {
            File.Delete(right);
        }
    }

    [Fact]
    public async Task Frames_over_the_servers_max_payload_are_counted_and_explained_not_lost_silently()
    {
        await using var nats = await ChildProcess.NatsServerAsync(config: "max_payload: 8192\n");
        var bus = $"nats://127.0.0.1:{nats.Port}";
        // 640x480 test-pattern JPEGs are well over 8 KB.
        await using var push = await ProcessServer.LaunchAsync(["push", "--source", "test", "--resolution", "640x480", "--quality", "95", "--to", bus + "/shed"]);
        await using var hub = await EdgeTestServer.StartAsync("--camera", "shed=bus", "--bus", bus, "--bus-frame-timeout", "2");
        await using var viewer = await MjpegClient.ConnectAsync(hub.BaseUrl + "/cams/shed/stream.mjpg");
        await ChainTests.WaitUntilAsync(() => push.Output.Contains("does not fit the NATS server's max_payload of 8192 bytes"), "the producer explained the dropped frames", 60);
        Assert.Contains("max_payload: 8MB", push.Output);
        // The hub's viewers see why nothing comes, instead of a frozen picture.
        await ChainTests.WaitUntilAsync(() => hub.Cameras.All[0].Capture.OfflineReason?.Contains("no frame from the producer") == true, "the hub shows no-signal with the reason", 60);
    }
}
