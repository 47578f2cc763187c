using System.Diagnostics;
using System.Text.Json;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>
/// Runs ws_client.py (Debian's python3 with python3-h2): a WebSocket client written apart from
/// .NET, speaking HTTP/2 extended CONNECT (RFC 8441) as Chromium does, or an HTTP/1.1 upgrade,
/// with or without TLS, so a test can send frames no browser API can (floods of pongs, empty
/// fragments). Each result is a JSON line; the last one is the summary.
/// </summary>
public static class PythonWebSocketClient
{
    public const string Python = "/usr/bin/python3";

    private static string Script => Path.Combine(AppContext.BaseDirectory, "Infrastructure", "ws_client.py");

    /// <summary>Starts the client; await <see cref="Run.ResultAsync"/> for its lines.</summary>
    public static Run Start(string url, string http, params string[] arguments)
    {
        Assert.True(File.Exists(Python), $"{Python} is missing: apt-get install python3 python3-h2");
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[Script, url, "--http", http, .. arguments])
        {
            start.ArgumentList.Add(argument);
        }
        return new Run(Process.Start(start)!);
    }

    public sealed class Run(Process process)
    {
        private readonly Task<string> _stdout = process.StandardOutput.ReadToEndAsync();
        private readonly Task<string> _stderr = process.StandardError.ReadToEndAsync();

        /// <summary>Every JSON line the client printed; fails the test when it crashed or overran <paramref name="timeout"/>.</summary>
        public async Task<List<JsonElement>> ResultAsync(TimeSpan timeout)
        {
            using var cancellation = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cancellation.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                Assert.Fail($"ws_client.py ran over {timeout.TotalSeconds} s; it printed: {await _stdout} {await _stderr}");
            }
            var stdout = await _stdout;
            Assert.True(process.ExitCode == 0, $"ws_client.py failed ({process.ExitCode}): {stdout} {await _stderr}");
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.True(lines.Count > 0 && lines[^1].TryGetProperty("summary", out _), "ws_client.py printed no summary: " + stdout);
            process.Dispose();
            return lines;
        }
    }
}
