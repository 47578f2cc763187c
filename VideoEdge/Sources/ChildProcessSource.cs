using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VideoEdge.Frames;
using VideoEdge.Imaging;

namespace VideoEdge.Sources;

/// <summary>
/// A program whose standard output is a stream of JPEGs: <c>exec:rpicam-vid … -o -</c> for the
/// Raspberry Pi Camera Module, any other capture program, and ffmpeg for network URLs. The program
/// runs without a shell; its JPEGs are split from the pipe without decoding
/// (<see cref="JpegStreamSplitter"/>) and each is copied once into a pooled frame, with the standard
/// Huffman tables inserted where it left them out, like an MJPEG camera's. Its stderr goes to our
/// log, rate-limited. When it exits or stalls the reason (its exit code, its last stderr line) is
/// shown on the no-signal picture and it is started again with backoff; with --slowdown it is
/// stopped while nobody watches. It is stopped with SIGTERM, then SIGKILL, and never outlives us:
/// on a clean stop we end it, and if we die it gets EPIPE (or SIGPIPE) at its next write.
/// </summary>
public sealed partial class ChildProcessSource : IFrameSource
{
    /// <summary>A program that writes no JPEG for this long (including its first) is stopped and restarted.</summary>
    public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a program has to exit after SIGTERM before it gets SIGKILL.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    /// <summary>With --slowdown, how long nobody must have watched before the program is stopped (a page reload should not restart it).</summary>
    public static readonly TimeSpan PauseAfter = TimeSpan.FromSeconds(3);

    private const int SigTerm = 15;

    private readonly CaptureContext _context;
    private readonly string _program;
    private readonly IReadOnlyList<string> _arguments;
    private readonly string? _notFoundHint;
    private readonly bool _programEncodes;
    private readonly ILogger _logger;
    private readonly StderrLog _stderr;
    private readonly Lock _lock = new();
    private readonly ManualResetEventSlim _demand = new();
    private readonly Timer _watchdog;
    private JpegStreamSplitter? _splitter;
    private Process? _process;
    private Stream? _output;
    private Frame? _pending;
    private CancellationTokenRegistration _stopping;
    private long _idleSince;
    private int _failedStarts;
    private volatile bool _stalled;
    private bool _stopSent;
    private int _width;
    private int _height;

    /// <param name="kind">"exec", or "url" for ffmpeg reading a network stream.</param>
    /// <param name="description">The command as shown in /api/state and logs, without secrets.</param>
    /// <param name="notFoundHint">Said when the program is not installed.</param>
    /// <param name="programEncodes">True when the program decodes and re-encodes (ffmpeg on a network stream); false for a camera program whose JPEGs are passed through.</param>
    public ChildProcessSource(CaptureContext context, string kind, string description, string program, IReadOnlyList<string> arguments,
        string? notFoundHint = null, bool programEncodes = false)
    {
        _context = context;
        Kind = kind;
        Description = description;
        _program = program;
        _arguments = arguments;
        _notFoundHint = notFoundHint;
        _programEncodes = programEncodes;
        _logger = context.LoggerFactory.CreateLogger("VideoEdge.Exec");
        _stderr = new StderrLog(_logger, context.CameraName, Path.GetFileName(program));
        _watchdog = new Timer(static s => ((ChildProcessSource)s!).OnWatchdog(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _width = context.Options.Width;
        _height = context.Options.Height;
        context.Hub.DemandChanged += OnDemandChanged;
    }

    public string Kind { get; }
    public string Description { get; }
    public int Width => _width;
    public int Height => _height;
    public double Fps => _programEncodes ? _context.Options.Fps : _context.Stats.CaptureRate.PerSecond;

    private string ProgramName => Path.GetFileName(_program);
    private bool Paused => _context.Options.Slowdown && !_context.Hub.HasDemand;

    /// <summary>Starts the program and waits for its first JPEG — unless --slowdown is on and nobody watches.</summary>
    public void Open(CancellationToken cancellation)
    {
        _stopping = cancellation.UnsafeRegister(static s => ((ChildProcessSource)s!).BeginStop(), this);
        _idleSince = Environment.TickCount64;
        if (!Paused)
        {
            StartProgram(cancellation);
        }
    }

    public Frame? Capture(CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        if (Interlocked.Exchange(ref _pending, null) is { } first)
        {
            return first;
        }
        if (_output is null)
        {
            // Paused: wake at the first viewer (or snapshot), else return now and then so the capture
            // loop keeps counting as alive.
            _demand.Reset();
            if (Paused)
            {
                WaitHandle.WaitAny([_demand.WaitHandle, cancellation.WaitHandle], TimeSpan.FromSeconds(1));
                cancellation.ThrowIfCancellationRequested();
                if (Paused)
                {
                    return null;
                }
            }
            LogResuming(_logger, _context.CameraName, ProgramName);
            StartProgram(cancellation);
            return Interlocked.Exchange(ref _pending, null);
        }
        if (_context.Options.Slowdown)
        {
            if (_context.Hub.HasDemand)
            {
                _idleSince = Environment.TickCount64;
            }
            else if (Environment.TickCount64 - _idleSince >= PauseAfter.TotalMilliseconds)
            {
                LogPausing(_logger, _context.CameraName, ProgramName);
                StopProgram();
                return null;
            }
        }
        return NextFrame(cancellation, publish: _context.ShouldEncode);
    }

    private void StartProgram(CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var info = new ProcessStartInfo(_program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Closed at once: the program reads end-of-file, never our terminal or a systemd socket.
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var stderr = _stderr.NewRun();
        Process process;
        try
        {
            process = new Process { StartInfo = info };
            process.ErrorDataReceived += (_, e) => stderr.Line(e.Data);
            process.Start();
        }
        catch (Win32Exception ex)
        {
            _failedStarts++;
            var why = ex.NativeErrorCode switch
            {
                2 => "not found" + (_notFoundHint is null ? " (is it installed, and on the PATH?)" : " (" + _notFoundHint + ")"),
                13 => "permission denied (is it executable?)",
                _ => ex.Message,
            };
            throw new SourceFaultException($"cannot start '{_program}': {why}", ex);
        }
        process.StandardInput.Close();
        process.BeginErrorReadLine();
        lock (_lock)
        {
            _process = process;
            _output = process.StandardOutput.BaseStream;
            _stopSent = false;
            _stalled = false;
        }
        _splitter = new JpegStreamSplitter(_context.Options.MaxFrameBytes);
        _idleSince = Environment.TickCount64;
        _watchdog.Change(StallTimeout, Timeout.InfiniteTimeSpan);
        if (cancellation.IsCancellationRequested)
        {
            BeginStop();
        }
        LogStarted(_logger, _context.CameraName, process.Id, Description);
        _pending = NextFrame(cancellation, publish: true);
    }

    /// <summary>Reads until the next whole, valid JPEG; returns it as a frame, or null when it is not to be published.</summary>
    private Frame? NextFrame(CancellationToken cancellation, bool publish)
    {
        var splitter = _splitter!;
        while (true)
        {
            var status = splitter.TryReadFrame(out var jpeg);
            switch (status)
            {
                case JpegSplitStatus.NeedMoreData:
                    Read(splitter, cancellation);
                    continue;
                case JpegSplitStatus.Truncated:
                    _context.Stats.CountDropped();
                    continue;
                case JpegSplitStatus.TooLarge:
                    _context.Stats.CountDropped();
                    throw new SourceFaultException($"'{ProgramName}' writes JPEGs larger than --max-frame-bytes ({_context.Options.MaxFrameBytes} bytes)");
            }
            lock (_lock)
            {
                // Once it is being stopped, the SIGKILL deadline stands, frames or not.
                if (!_stopSent)
                {
                    _watchdog.Change(StallTimeout, Timeout.InfiniteTimeSpan);
                }
            }
            _failedStarts = 0;
            _context.Stats.CountCaptured();
            var frame = ToFrame(jpeg, publish);
            if (frame is not null || publish is false)
            {
                return frame;
            }
        }
    }

    private Frame? ToFrame(ReadOnlySpan<byte> jpeg, bool publish)
    {
        var check = JpegDht.Inspect(jpeg, out var length, out var scanOffset);
        if (check == JpegCheck.Invalid)
        {
            _context.Stats.CountDropped();
            return null;
        }
        if (JpegHeader.TryReadSize(jpeg, out var w, out var h))
        {
            _width = w;
            _height = h;
        }
        if (!publish)
        {
            return null;
        }
        var frame = JpegDht.RentPlayable(_context.Pool, jpeg, check, length, scanOffset);
        frame.Width = _width;
        frame.Height = _height;
        // The program's own clock is not ours: the frame was captured when it arrived.
        frame.TimestampMicros = Clock.UnixMicrosNow();
        if (_programEncodes)
        {
            // ffmpeg decoded and encoded this frame for us; we only copied it.
            _context.Stats.CountDecoded();
            _context.Stats.CountEncoded(TimeSpan.Zero);
        }
        else
        {
            _context.Stats.CountPassthrough();
        }
        return frame;
    }

    private void Read(JpegStreamSplitter splitter, CancellationToken cancellation)
    {
        int n;
        try
        {
            // Null once Dispose has closed it from another thread at shutdown.
            n = _output?.Read(splitter.GetWriteMemory().Span) ?? 0;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            n = 0;
        }
        if (n > 0)
        {
            splitter.Advance(n);
            return;
        }
        cancellation.ThrowIfCancellationRequested();
        throw new SourceFaultException(EndReason());
    }

    /// <summary>Why the program's output ended: it stalled, or it exited (with what code, and what it said last).</summary>
    private string EndReason()
    {
        if (_process is not { } process)
        {
            return $"'{ProgramName}' was stopped";
        }
        // Its last stderr lines arrive with the end of its output; give them a moment.
        using (var wait = new CancellationTokenSource(StopGrace))
        {
            try
            {
                process.WaitForExitAsync(wait.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }
        }
        if (_stalled)
        {
            _failedStarts++;
            return $"'{ProgramName}' wrote no JPEG for {StallTimeout.TotalSeconds:0} s";
        }
        _failedStarts++;
        var last = _stderr.LastLine;
        if (!process.HasExited)
        {
            return $"'{ProgramName}' closed its output" + (last is null ? "" : ": " + last);
        }
        var code = process.ExitCode;
        // .NET reports a program killed by signal N as exit code 128 + N.
        var how = code is > 128 and < 160 ? $"was killed by signal {code - 128}" : $"exited with code {code}";
        return $"'{ProgramName}' {how}" + (last is null ? "" : ": " + last);
    }

    private void OnWatchdog()
    {
        lock (_lock)
        {
            if (_process is null)
            {
                return;
            }
            if (!_stopSent)
            {
                _stalled = true;
            }
        }
        BeginStop();
    }

    /// <summary>SIGTERM now (a stall, or shutting down), SIGKILL if it is still there after <see cref="StopGrace"/>. Never blocks.</summary>
    private void BeginStop()
    {
        lock (_lock)
        {
            if (_process is not { } process)
            {
                return;
            }
            try
            {
                if (process.HasExited)
                {
                    return;
                }
                if (!_stopSent)
                {
                    _stopSent = true;
                    _ = Interop.Libc.Kill(process.Id, SigTerm);
                    _watchdog.Change(StopGrace, Timeout.InfiniteTimeSpan);
                    return;
                }
                process.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
            {
            }
        }
    }

    /// <summary>Stops the program and waits for it: SIGTERM, then SIGKILL after <see cref="StopGrace"/>.</summary>
    private void StopProgram()
    {
        Process? process;
        lock (_lock)
        {
            process = _process;
            _watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        if (process is not null)
        {
            try
            {
                if (!process.HasExited)
                {
                    _ = Interop.Libc.Kill(process.Id, SigTerm);
                    if (!process.WaitForExit(StopGrace))
                    {
                        LogKilled(_logger, _context.CameraName, ProgramName, process.Id);
                        process.Kill(entireProcessTree: true);
                        process.WaitForExit(StopGrace);
                    }
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
            {
            }
        }
        lock (_lock)
        {
            _output?.Dispose();
            _output = null;
            if (_process == process)
            {
                _process = null;
            }
        }
        process?.Dispose();
        // Exchanged, because at shutdown Dispose may get here while the capture thread takes it.
        Interlocked.Exchange(ref _pending, null)?.Release();
        _splitter = null;
    }

    public void Close()
    {
        _stopping.Dispose();
        StopProgram();
    }

    /// <summary>1 s, doubling to at most 30 s, counting programs that ended before their first JPEG.</summary>
    public TimeSpan RetryDelay(int failures) =>
        TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(Math.Max(failures, _failedStarts), 6) - 1)));

    public void Dispose()
    {
        _context.Hub.DemandChanged -= OnDemandChanged;
        Close();
        _watchdog.Dispose();
        _demand.Dispose();
    }

    private void OnDemandChanged()
    {
        try
        {
            _demand.Set();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: started process {Pid}: {Command}")]
    private static partial void LogStarted(ILogger logger, string camera, int pid, string command);

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: nobody watches; stopping '{Program}' (--slowdown)")]
    private static partial void LogPausing(ILogger logger, string camera, string program);

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: a viewer arrived; starting '{Program}' again")]
    private static partial void LogResuming(ILogger logger, string camera, string program);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Camera {Camera}: '{Program}' (process {Pid}) ignored SIGTERM; killing it")]
    private static partial void LogKilled(ILogger logger, string camera, string program, int pid);

    /// <summary>
    /// The program's stderr in our log: a burst of lines (a camera stack's start-up chatter) passes,
    /// then about one line every few seconds, with a count of what was left out. The last line is
    /// kept for the no-signal reason.
    /// </summary>
    private sealed partial class StderrLog(ILogger logger, string camera, string program)
    {
        private const int Burst = 20;
        private const long RefillMilliseconds = 3000;

        private readonly Lock _lock = new();
        private double _tokens = Burst;
        private long _refilledAt = Environment.TickCount64;
        private int _suppressed;
        private volatile string? _last;
        private int _run;

        public string? LastLine => _last;

        /// <summary>A sink for one run of the program; lines of an earlier run arriving late are still logged, but do not become the reason.</summary>
        public Run NewRun()
        {
            _last = null;
            return new Run(this, Interlocked.Increment(ref _run));
        }

        private void Line(int run, string? line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                return;
            }
            // A program's own messages quote its arguments (ffmpeg echoes the URL, password and all).
            line = Security.SourceText.Redact(line.Trim());
            if (line.Length > 300)
            {
                line = line[..300] + "…";
            }
            if (run == Volatile.Read(ref _run))
            {
                _last = line;
            }
            int suppressed;
            lock (_lock)
            {
                var now = Environment.TickCount64;
                _tokens = Math.Min(Burst, _tokens + (now - _refilledAt) / (double)RefillMilliseconds);
                _refilledAt = now;
                if (_tokens < 1)
                {
                    _suppressed++;
                    return;
                }
                _tokens--;
                suppressed = _suppressed;
                _suppressed = 0;
            }
            if (suppressed > 0)
            {
                LogSuppressed(logger, camera, program, suppressed.ToString(CultureInfo.InvariantCulture));
            }
            LogLine(logger, camera, program, line);
        }

        public sealed class Run(StderrLog log, int run)
        {
            public void Line(string? line) => log.Line(run, line);
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: {Program}: {Line}")]
        private static partial void LogLine(ILogger logger, string camera, string program, string line);

        [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: {Program}: ({Count} more lines not logged)")]
        private static partial void LogSuppressed(ILogger logger, string camera, string program, string count);
    }
}
