using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using VideoEdge.Tests.Fakes;

namespace VideoEdge.Tests;

/// <summary>Shared JPEG fixtures: 640x480 and 320x240 testsrc frames, plus DHT-less copies.</summary>
public sealed class FakeCameraFixture : IDisposable
{
    public FakeCameraFixture()
    {
        Root = FakeCamera.NewTempDirectory("fakecam-tests");
        Vga = FakeCamera.MakeTestJpegs(Path.Combine(Root, "vga"), 640, 480, 5);
        Qvga = FakeCamera.MakeTestJpegs(Path.Combine(Root, "qvga"), 320, 240, 3);
        VgaNoDht = FakeCamera.StripDhtFiles(Vga, Path.Combine(Root, "vga-nodht"));
        _ = FakeCamera.LibraryPath;
    }

    public string Root { get; }
    public IReadOnlyList<string> Vga { get; }
    public IReadOnlyList<string> Qvga { get; }
    public IReadOnlyList<string> VgaNoDht { get; }

    public FakeCameraOptions Camera => new FakeCameraOptions().WithJpegs(Vga);

    public string NewDirectory(string name)
    {
        var dir = Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// Proves the LD_PRELOAD camera looks like a uvcvideo device to clients written elsewhere
/// (v4l2-ctl, ffmpeg's v4l2 demuxer), plus a small C probe for poll and unplug timing.
/// </summary>
public sealed class FakeCameraTests(FakeCameraFixture fx) : IClassFixture<FakeCameraFixture>
{
    private const string Dev = "/dev/video0";
    private const int YuyvFrame = 640 * 480 * 2;

    private static Task<ProcessOutput> V4l2Ctl(FakeCameraOptions cam, params string[] args) =>
        FakeCamera.RunAsync("v4l2-ctl", ["-d", cam.DevicePath, .. args], cam);

    private static Task<ProcessOutput> Ffmpeg(FakeCameraOptions cam, params string[] args) =>
        FakeCamera.RunAsync("ffmpeg", ["-nostdin", "-hide_banner", "-loglevel", "error", "-y", .. args], cam);

    private byte[] Loop(IReadOnlyList<string> files, int frames)
    {
        var data = files.Select(File.ReadAllBytes).ToList();
        var all = new List<byte>();
        for (var i = 0; i < frames; i++) all.AddRange(data[i % data.Count]);
        return [.. all];
    }

    [Fact]
    public void FakeCamera_BuildsTheShim()
    {
        Assert.True(File.Exists(FakeCamera.LibraryPath));
        Assert.Equal(FakeCamera.LibraryPath, FakeCamera.LibraryPath);
        Assert.False(FakeCamera.HasDht(File.ReadAllBytes(fx.VgaNoDht[0])));
        Assert.True(FakeCamera.HasDht(File.ReadAllBytes(fx.Vga[0])));
    }

    [Fact]
    public async Task V4l2Ctl_All_ReportsAUvcCamera()
    {
        var r = await V4l2Ctl(fx.Camera with { Card = "Bench Cam" }, "--all");
        Assert.True(r.ExitCode == 0, r.ToString());
        var o = r.StdOut;
        Assert.Contains("Driver name      : uvcvideo", o);
        Assert.Contains("Card type        : Bench Cam", o);
        Assert.Contains("Bus info         : usb-fake-1", o);
        Assert.Matches(@"Device Caps\s+: 0x04200001", o);
        Assert.Contains("Video input : 0 (Camera 1: ok)", o);
        Assert.Contains("Width/Height      : 640/480", o);
        Assert.Contains("'MJPG' (Motion-JPEG)", o);
        Assert.Contains("Frames per second: 30.000 (30/1)", o);
        Assert.Matches(@"brightness 0x00980900 \(int\)\s+: min=-64 max=64 step=1 default=0 value=0", o);
        Assert.Matches(@"contrast 0x00980901 \(int\)\s+: min=0 max=95 step=1 default=32", o);
        Assert.Matches(@"saturation 0x00980902 \(int\)\s+: min=0 max=100 step=1 default=64", o);
        Assert.Matches(@"white_balance_temperature_auto 0x0098090c \(bool\)", o);
        Assert.Matches(@"\sgain 0x00980913 \(int\)", o);
        Assert.Matches(@"power_line_frequency 0x00980918 \(menu\)\s+: min=0 max=2 default=1 value=1 \(50 Hz\)", o);
        Assert.Contains("2: 60 Hz", o);
        Assert.Matches(@"auto_exposure 0x009a0901 \(menu\)", o);
        Assert.Matches(@"exposure_time_absolute 0x009a0902 \(int\)\s+: min=1 max=5000", o);
        Assert.Contains("User Controls", o);
        Assert.Contains("Camera Controls", o);
    }

    [Fact]
    public async Task V4l2Ctl_ListFormatsExt_FollowsConfiguration()
    {
        var cam = new FakeCameraOptions().WithJpegs(fx.Qvga).WithFps(25, 7.5) with
        {
            Formats = ["yuyv", "mjpeg"],
            YuyvSizes = [(320, 240), (800, 600)],
        };
        var r = await V4l2Ctl(cam, "--list-formats-ext");
        Assert.True(r.ExitCode == 0, r.ToString());
        var o = r.StdOut;
        var yuyv = o.IndexOf("[0]: 'YUYV' (YUYV 4:2:2)", StringComparison.Ordinal);
        var mjpg = o.IndexOf("[1]: 'MJPG' (Motion-JPEG, compressed)", StringComparison.Ordinal);
        Assert.True(yuyv >= 0 && mjpg > yuyv, o);
        Assert.Contains("Size: Discrete 800x600", o[yuyv..mjpg]);
        Assert.Contains("Size: Discrete 320x240", o[mjpg..]); // the first JPEG's SOF size
        Assert.DoesNotContain("640x480", o);
        Assert.Equal(3, Regex.Matches(o, @"Interval: Discrete 0\.040s \(25\.000 fps\)").Count);
        Assert.Equal(3, Regex.Matches(o, @"Interval: Discrete 0\.133s \(7\.500 fps\)").Count);

        var noJpegs = await V4l2Ctl(new FakeCameraOptions(), "--list-formats");
        Assert.Contains("'YUYV'", noJpegs.StdOut);
        Assert.DoesNotContain("'MJPG'", noJpegs.StdOut);
    }

    [Fact]
    public async Task V4l2Ctl_StreamMmap_MjpegFramesAreTheServedFilesAtTheNegotiatedRate()
    {
        var output = Path.Combine(fx.NewDirectory("v4l2ctl-mjpeg"), "out.mjpg");
        var r = await V4l2Ctl(fx.Camera, "--verbose", "--stream-mmap", "--stream-count=30", $"--stream-to={output}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(Loop(fx.Vga, 30), File.ReadAllBytes(output));

        var dq = Regex.Matches(r.StdOut + r.StdErr, @"cap dqbuf: (\d+) seq:\s+(\d+) bytesused: (\d+) ts: ([\d.]+).*?\((ts-monotonic)");
        Assert.Equal(30, dq.Count);
        var seqs = dq.Select(m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).ToList();
        // Like uvcvideo, the fake drops a frame when the client has no buffer queued in time (a
        // loaded machine) and the sequence counts it; the bytes delivered are still every file in turn.
        Assert.Equal(0, seqs[0]);
        Assert.All(seqs.Zip(seqs.Skip(1)), p => Assert.True(p.Second > p.First, $"sequence {p.First} then {p.Second}"));
        Assert.InRange(seqs[^1], 29, 29 + 5);
        var ts = dq.Select(m => double.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture)).ToList();
        var span = ts[^1] - ts[0];
        // The first frame may come a little late (the fake keeps an absolute schedule and catches up).
        Assert.InRange(span, seqs[^1] / 30.0 - 0.06, seqs[^1] / 30.0 + 0.5);
        Assert.True(r.Elapsed.TotalSeconds >= 0.9, r.ToString());
    }

    [Fact]
    public async Task V4l2Ctl_StreamMmap_YuyvFramesHaveFullSizeAndMove()
    {
        var output = Path.Combine(fx.NewDirectory("v4l2ctl-yuyv"), "out.yuyv");
        var r = await V4l2Ctl(fx.Camera, "--set-fmt-video=width=640,height=480,pixelformat=YUYV",
            "--set-parm=60", "--stream-mmap", "--stream-count=30", $"--stream-to={output}");
        Assert.True(r.ExitCode == 0, r.ToString());
        var data = File.ReadAllBytes(output);
        Assert.Equal(30 * YuyvFrame, data.Length);
        for (var i = 1; i < 30; i++)
            Assert.False(data.AsSpan((i - 1) * YuyvFrame, YuyvFrame).SequenceEqual(data.AsSpan(i * YuyvFrame, YuyvFrame)),
                $"frame {i} equals frame {i - 1}");
        var parm = await V4l2Ctl(fx.Camera, "--set-parm=60", "--get-parm");
        Assert.Contains("Frames per second: 30.000 (30/1)", parm.StdOut); // snapped to the nearest offered rate
    }

    [Fact]
    public async Task V4l2Ctl_Controls_RangeCheckedAndRemembered()
    {
        var bad = await V4l2Ctl(fx.Camera, "--set-ctrl=brightness=100");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("Numerical result out of range", bad.StdOut + bad.StdErr);

        var ok = await V4l2Ctl(fx.Camera, "--set-ctrl=brightness=-10,power_line_frequency=2,auto_exposure=1",
            "--get-ctrl=brightness,power_line_frequency,auto_exposure,exposure_time_absolute");
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("brightness: -10", ok.StdOut);
        Assert.Contains("power_line_frequency: 2", ok.StdOut);
        Assert.Contains("auto_exposure: 1", ok.StdOut);
        Assert.Contains("exposure_time_absolute: 156", ok.StdOut);

        var skipped = await V4l2Ctl(fx.Camera, "--set-ctrl=auto_exposure=0");
        Assert.NotEqual(0, skipped.ExitCode); // menu entry the camera does not implement
    }

    [Fact]
    public async Task V4l2Ctl_StreamPoll_NonBlockingWithSelect()
    {
        var output = Path.Combine(fx.NewDirectory("v4l2ctl-poll"), "out.mjpg");
        var r = await V4l2Ctl(fx.Camera, "--stream-mmap", "--stream-poll", "--stream-count=20", $"--stream-to={output}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(Loop(fx.Vga, 20), File.ReadAllBytes(output));
    }

    [Fact]
    public async Task V4l2Ctl_UnplugAfter_StopsDeliveringWithENODEV()
    {
        var output = Path.Combine(fx.NewDirectory("v4l2ctl-unplug"), "out.mjpg");
        var r = await V4l2Ctl(fx.Camera with { UnplugAfterFrames = 7 }, "--stream-mmap", "--stream-count=30",
            $"--stream-to={output}");
        Assert.True(r.Elapsed < TimeSpan.FromSeconds(10), r.ToString());
        Assert.Equal(Loop(fx.Vga, 7), File.ReadAllBytes(output));
    }

    [Fact]
    public async Task Busy_OpenFails()
    {
        var r = await V4l2Ctl(fx.Camera with { Busy = true }, "--all");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Device or resource busy", r.StdOut + r.StdErr);
    }

    [Fact]
    public async Task Ffmpeg_Mjpeg_DecodesAndCopiesTheServedFiles()
    {
        var dir = fx.NewDirectory("ffmpeg-mjpeg");
        var r = await Ffmpeg(fx.Camera, "-f", "v4l2", "-input_format", "mjpeg", "-video_size", "640x480", "-i", Dev,
            "-frames:v", "10", Path.Combine(dir, "out%d.jpg"));
        Assert.True(r.ExitCode == 0, r.ToString());
        for (var i = 1; i <= 10; i++)
            Assert.True(new FileInfo(Path.Combine(dir, $"out{i}.jpg")).Length > 1000, $"out{i}.jpg");

        var copy = fx.NewDirectory("ffmpeg-copy");
        r = await Ffmpeg(fx.Camera, "-f", "v4l2", "-input_format", "mjpeg", "-video_size", "640x480", "-i", Dev,
            "-frames:v", "10", "-c", "copy", Path.Combine(copy, "out%d.jpg"));
        Assert.True(r.ExitCode == 0, r.ToString());
        for (var i = 1; i <= 10; i++)
            Assert.Equal(File.ReadAllBytes(fx.Vga[(i - 1) % fx.Vga.Count]), File.ReadAllBytes(Path.Combine(copy, $"out{i}.jpg")));
    }

    [Fact]
    public async Task Ffmpeg_Mjpeg_DhtLessFramesDecode()
    {
        var dir = fx.NewDirectory("ffmpeg-nodht");
        var cam = new FakeCameraOptions().WithJpegs(fx.VgaNoDht);
        var r = await Ffmpeg(cam, "-f", "v4l2", "-input_format", "mjpeg", "-i", Dev, "-frames:v", "5",
            "-f", "rawvideo", "-pix_fmt", "gray", Path.Combine(dir, "out.gray"));
        Assert.True(r.ExitCode == 0, r.ToString());
        var gray = File.ReadAllBytes(Path.Combine(dir, "out.gray"));
        Assert.Equal(5 * 640 * 480, gray.Length);
        Assert.True(gray.Distinct().Count() > 50, "decoded frames look blank");
    }

    [Fact]
    public async Task Ffmpeg_Yuyv422_RawFramesOfTheRightSize()
    {
        var dir = fx.NewDirectory("ffmpeg-yuyv");
        var cam = new FakeCameraOptions().WithFormats("yuyv");
        var output = Path.Combine(dir, "out.yuyv");
        var r = await Ffmpeg(cam, "-f", "v4l2", "-input_format", "yuyv422", "-video_size", "640x480", "-framerate", "15",
            "-i", Dev, "-frames:v", "8", "-c", "copy", "-f", "rawvideo", output);
        Assert.True(r.ExitCode == 0, r.ToString());
        var data = File.ReadAllBytes(output);
        Assert.Equal(8 * YuyvFrame, data.Length);
        Assert.False(data.AsSpan(0, YuyvFrame).SequenceEqual(data.AsSpan(YuyvFrame, YuyvFrame)));

        var png = await Ffmpeg(cam, "-f", "v4l2", "-input_format", "yuyv422", "-video_size", "1280x720", "-i", Dev,
            "-frames:v", "2", Path.Combine(dir, "hd%d.png"));
        Assert.True(png.ExitCode == 0, png.ToString());
        Assert.True(File.Exists(Path.Combine(dir, "hd2.png")));
    }

    [Fact]
    public async Task Stamp_AddsComSegmentWithSequenceAndWallClock()
    {
        var output = Path.Combine(fx.NewDirectory("stamp"), "out.mjpg");
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        var r = await V4l2Ctl(fx.Camera with { Stamp = true }, "--stream-mmap", "--stream-count=5", $"--stream-to={output}");
        Assert.True(r.ExitCode == 0, r.ToString());
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        var data = File.ReadAllBytes(output);
        var text = Encoding.Latin1.GetString(data);
        var stamps = Regex.Matches(text, @"\xFF\xD8\xFF\xFE..fakecam seq=(\d+) t=(\d+)", RegexOptions.Singleline);
        Assert.Equal(5, stamps.Count);
        Assert.Equal(Enumerable.Range(0, 5), stamps.Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));
        foreach (Match m in stamps)
            Assert.InRange(long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), before - 1_000_000_000, after);
        var expected = fx.Vga.Take(5).Sum(f => new FileInfo(f).Length) + stamps.Sum(m => 4 + m.Length - 6);
        Assert.Equal(expected, data.Length);
    }

    [Fact]
    public async Task Probe_NonBlockingPollEpollUnplugAndReplug()
    {
        var probe = FakeCamera.CompileC(WriteProbeSource(), "fakecam-probe", "");
        var cam = fx.Camera.WithFps(10) with { UnplugAfterFrames = 6, ReplugAfterSeconds = 0.5 };
        var r = await FakeCamera.RunAsync(probe, [Dev], cam, TimeSpan.FromSeconds(30));
        Assert.True(r.ExitCode == 0, r.ToString());
        var kv = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        string V(string k) => kv.TryGetValue(k, out var v) ? v : throw new Xunit.Sdk.XunitException($"no {k} in\n{r}");
        double Ms(string k) => double.Parse(V(k), CultureInfo.InvariantCulture);

        Assert.Equal("EINVAL", V("dqbuf_before_streamon"));
        Assert.Equal("1", V("poll_first"));
        Assert.Equal("0", V("dqbuf1_seq"));
        Assert.Equal("EAGAIN", V("dqbuf_empty"));
        Assert.Equal("0", V("poll_empty"));
        Assert.InRange(Ms("poll_wait_ms"), 40, 400); // the next frame is due one 100 ms interval after the first
        Assert.Equal("1", V("epoll"));
        Assert.Equal("ok", V("blocking_dqbuf"));
        Assert.InRange(Ms("blocking_wait_ms"), 40, 400);
        Assert.Equal("ENODEV", V("unplug_errno"));
        Assert.Equal("6", V("delivered"));
        Assert.Equal("1", V("poll_after_unplug"));
        Assert.Equal("ENODEV", V("querycap_after_unplug"));
        Assert.Equal("ENOENT", V("reopen_while_unplugged"));
        Assert.Equal("ENOENT", V("stat_while_unplugged"));
        Assert.InRange(Ms("replug_ms"), 300, 2000);
        Assert.Equal("ok", V("querycap_after_replug"));
        Assert.Equal("ENODEV", V("old_fd_after_replug"));
        Assert.Equal("ok", V("stream_after_replug"));
        Assert.Equal("ok", V("passthrough"));
    }

    private string WriteProbeSource()
    {
        var path = Path.Combine(fx.Root, "probe.c");
        if (!File.Exists(path)) File.WriteAllText(path, ProbeSource);
        return path;
    }

    // A minimal V4L2 client: checks what poll/epoll and the errno values look like around the
    // moments that matter (empty queue, unplug, replug). Prints key=value lines.
    private const string ProbeSource = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <linux/videodev2.h>
        #include <poll.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/epoll.h>
        #include <sys/ioctl.h>
        #include <sys/mman.h>
        #include <sys/stat.h>
        #include <time.h>
        #include <unistd.h>

        static const char *en(int e)
        {
            switch (e) {
            case 0: return "ok";
            case EAGAIN: return "EAGAIN";
            case EINVAL: return "EINVAL";
            case ENODEV: return "ENODEV";
            case ENOENT: return "ENOENT";
            case EBUSY: return "EBUSY";
            default: return strerror(e);
            }
        }
        static int io(int fd, unsigned long r, void *a)
        {
            int x;
            do x = ioctl(fd, r, a); while (x < 0 && errno == EINTR);
            return x < 0 ? errno : 0;
        }
        static double ms(void)
        {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
        }
        static int start(int fd)
        {
            struct v4l2_requestbuffers rb = { .count = 4, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP };
            if (io(fd, VIDIOC_REQBUFS, &rb)) return -1;
            for (unsigned i = 0; i < rb.count; i++) {
                struct v4l2_buffer b = { .index = i, .type = rb.type, .memory = rb.memory };
                if (io(fd, VIDIOC_QUERYBUF, &b)) return -1;
                if (mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b.m.offset) == MAP_FAILED) return -1;
                if (io(fd, VIDIOC_QBUF, &b)) return -1;
            }
            return 0;
        }
        int main(int argc, char **argv)
        {
            const char *dev = argv[1];
            setvbuf(stdout, NULL, _IONBF, 0);
            int fd = open(dev, O_RDWR | O_NONBLOCK);
            if (fd < 0 || start(fd)) { printf("setup=%s\n", en(errno)); return 1; }
            struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .memory = V4L2_MEMORY_MMAP };
            printf("dqbuf_before_streamon=%s\n", en(io(fd, VIDIOC_DQBUF, &b)));
            int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
            if (io(fd, VIDIOC_STREAMON, &type)) return 2;
            struct pollfd p = { .fd = fd, .events = POLLIN };
            printf("poll_first=%d\n", poll(&p, 1, 2000));
            int e = io(fd, VIDIOC_DQBUF, &b);
            printf("dqbuf1=%s\ndqbuf1_seq=%u\n", en(e), b.sequence);
            struct v4l2_buffer b2 = b;
            printf("dqbuf_empty=%s\n", en(io(fd, VIDIOC_DQBUF, &b2)));
            printf("poll_empty=%d\n", poll(&p, 1, 0));
            double t0 = ms();
            poll(&p, 1, 2000);
            printf("poll_wait_ms=%.0f\n", ms() - t0);
            io(fd, VIDIOC_QBUF, &b);
            int ep = epoll_create1(EPOLL_CLOEXEC);
            struct epoll_event ev = { .events = EPOLLIN }, out;
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            printf("epoll=%d\n", epoll_wait(ep, &out, 1, 2000));
            io(fd, VIDIOC_DQBUF, &b);  /* frame 2, already signalled */
            io(fd, VIDIOC_QBUF, &b);
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            t0 = ms();
            e = io(fd, VIDIOC_DQBUF, &b);  /* frame 3, must wait for the producer */
            printf("blocking_dqbuf=%s\nblocking_wait_ms=%.0f\n", en(e), ms() - t0);
            int delivered = 3;
            for (;;) {
                io(fd, VIDIOC_QBUF, &b);
                e = io(fd, VIDIOC_DQBUF, &b);
                if (e) break;
                delivered++;
            }
            printf("unplug_errno=%s\ndelivered=%d\n", en(e), delivered);
            p.revents = 0;
            printf("poll_after_unplug=%d\n", poll(&p, 1, 0));
            struct v4l2_capability cap;
            printf("querycap_after_unplug=%s\n", en(io(fd, VIDIOC_QUERYCAP, &cap)));
            int fd2 = open(dev, O_RDWR);
            printf("reopen_while_unplugged=%s\n", en(fd2 < 0 ? errno : 0));
            struct stat st;
            printf("stat_while_unplugged=%s\n", en(stat(dev, &st) < 0 ? errno : 0));
            t0 = ms();
            while ((fd2 = open(dev, O_RDWR)) < 0 && ms() - t0 < 5000) usleep(20000);
            printf("replug_ms=%.0f\n", ms() - t0);
            printf("querycap_after_replug=%s\n", en(io(fd2, VIDIOC_QUERYCAP, &cap)));
            printf("old_fd_after_replug=%s\n", en(io(fd, VIDIOC_QUERYCAP, &cap)));
            e = start(fd2) ? -1 : io(fd2, VIDIOC_STREAMON, &type);
            if (!e) e = io(fd2, VIDIOC_DQBUF, &b);
            printf("stream_after_replug=%s\n", en(e));
            close(fd);
            close(fd2);
            int nf = open("/proc/self/stat", O_RDONLY);
            char buf[16];
            printf("passthrough=%s\n", nf >= 0 && read(nf, buf, sizeof buf) > 0 && ioctl(nf, VIDIOC_QUERYCAP, &cap) < 0 && errno == ENOTTY ? "ok" : "broken");
            return 0;
        }
        """;
}
