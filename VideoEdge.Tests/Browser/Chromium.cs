using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VideoEdge.Tests.Browser;

/// <summary>
/// Debian's Chromium, headless, with a fresh profile, driven over the DevTools protocol. Nothing is
/// downloaded: the browser is the system one and the protocol is plain JSON over a WebSocket.
/// </summary>
public sealed class Chromium(Process process, DirectoryInfo profile, CdpConnection connection)
    : BrowserProcess(process, profile, connection, "Browser.close")
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Chromium's own pid and its helpers (renderer, GPU, network) as the browser reports them.</summary>
    public async Task<int[]> ProcessIdsAsync()
    {
        var info = await Connection.SendAsync("SystemInfo.getProcessInfo");
        return [.. info.GetProperty("processInfo").EnumerateArray().Select(p => p.GetProperty("id").GetInt32()).Append(Process.Id).Distinct()];
    }

    public static async Task<Chromium> LaunchAsync()
    {
        Assert.True(File.Exists(ExecutablePath), $"{ExecutablePath} is missing: apt-get install chromium");
        var profile = Directory.CreateTempSubdirectory("videoedge-chromium-");
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] flags =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
            "--disable-dev-shm-usage", "--password-store=basic", "--use-mock-keychain",
            // Every test tab counts as visible; keep the browser from slowing timers in the others.
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
            "--window-size=1280,800", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            "--user-data-dir=" + profile.FullName, "about:blank",
        ];
        foreach (var flag in flags)
        {
            start.ArgumentList.Add(flag);
        }
        var process = Process.Start(start)!;
        var log = new Queue<string>();
        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (log)
            {
                log.Enqueue(line);
                if (log.Count > 50)
                {
                    log.Dequeue();
                }
            }
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // With port 0 Chromium picks a free port and writes it, and the browser endpoint's path, into the profile.
        var portFile = Path.Combine(profile.FullName, "DevToolsActivePort");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string[]? lines = null;
        while (lines is not { Length: >= 2 })
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                string text;
                lock (log)
                {
                    text = string.Join('\n', log);
                }
                process.Kill(entireProcessTree: true);
                Assert.Fail($"Chromium did not start its DevTools endpoint (exited: {process.HasExited}).\n{text}");
            }
            await Task.Delay(50);
            try
            {
                lines = File.Exists(portFile) ? File.ReadAllLines(portFile) : null;
            }
            catch (IOException)
            {
            }
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var connection = await CdpConnection.ConnectAsync(new Uri($"ws://127.0.0.1:{lines[0].Trim()}{lines[1].Trim()}"), timeout.Token);
        return new Chromium(process, profile, connection);
    }

    /// <summary>A new tab in its own browser context (no shared cookies or cache), at 1280×800.</summary>
    public async Task<BrowserPage> NewPageAsync(string downloadDirectory)
    {
        var context = (await Connection.SendAsync("Target.createBrowserContext")).GetProperty("browserContextId").GetString()!;
        await Connection.SendAsync("Browser.setDownloadBehavior", new JsonObject
        {
            ["behavior"] = "allow",
            ["browserContextId"] = context,
            ["downloadPath"] = downloadDirectory,
            ["eventsEnabled"] = true,
        });
        var target = (await Connection.SendAsync("Target.createTarget", new JsonObject
        {
            ["url"] = "about:blank",
            ["browserContextId"] = context,
        })).GetProperty("targetId").GetString()!;
        var session = (await Connection.SendAsync("Target.attachToTarget", new JsonObject
        {
            ["targetId"] = target,
            ["flatten"] = true,
        })).GetProperty("sessionId").GetString()!;
        return await BrowserPage.AttachAsync(Connection, context, target, session);
    }
}
