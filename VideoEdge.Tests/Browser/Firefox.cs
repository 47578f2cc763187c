using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VideoEdge.Tests.Browser;

/// <summary>
/// Debian's Firefox ESR, headless, with a fresh profile, driven over WebDriver BiDi. Nothing is
/// downloaded: no geckodriver is needed, because Firefox itself serves BiDi on
/// <c>--remote-debugging-port</c> (a WebSocket at <c>/session</c>) and BiDi's framing (id-matched
/// replies, method/params events) is what <see cref="CdpConnection"/> already speaks.
/// </summary>
public sealed class Firefox(Process process, DirectoryInfo profile, CdpConnection connection, string downloads)
    : BrowserProcess(process, profile, connection, "browser.close")
{
    public const string ExecutablePath = "/usr/bin/firefox-esr";

    /// <summary>Where the page's downloads land (the profile's download preferences point there, so Firefox does not ask).</summary>
    public string Downloads { get; } = downloads;

    public static async Task<Firefox> LaunchAsync(string downloads)
    {
        Assert.True(File.Exists(ExecutablePath), $"{ExecutablePath} is missing: apt-get install firefox-esr");
        // Firefox runs as root here as long as the profile is its own; a fresh directory per launch.
        var profile = Directory.CreateTempSubdirectory("videoedge-firefox-");
        string[] prefs =
        [
            // Downloads go straight to the test's folder instead of asking.
            $"user_pref(\"browser.download.dir\", {JsonSerializer.Serialize(downloads)});",
            "user_pref(\"browser.download.folderList\", 2);",
            "user_pref(\"browser.download.useDownloadDir\", true);",
            "user_pref(\"browser.download.always_ask_before_handling_new_types\", false);",
            "user_pref(\"browser.download.start_downloads_in_tmp_dir\", false);",
            // Nothing to fetch from the internet: only loopback exists for the tests.
            "user_pref(\"app.update.disabledForTesting\", true);",
            "user_pref(\"datareporting.policy.dataSubmissionEnabled\", false);",
            "user_pref(\"toolkit.telemetry.reportingpolicy.firstRun\", false);",
            "user_pref(\"browser.shell.checkDefaultBrowser\", false);",
            "user_pref(\"network.captive-portal-service.enabled\", false);",
            "user_pref(\"network.connectivity-service.enabled\", false);",
            "user_pref(\"messaging-system.rsexperimentloader.enabled\", false);",
            "user_pref(\"services.settings.server\", \"http://127.0.0.1:9/\");",
        ];
        await File.WriteAllLinesAsync(Path.Combine(profile.FullName, "user.js"), prefs);

        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--headless", "--no-remote", "-profile", profile.FullName, "--remote-debugging-port", "0", "--window-size=1280,800", "about:blank" })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["MOZ_CRASHREPORTER_DISABLE"] = "1";
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
        string Text()
        {
            lock (log)
            {
                return string.Join('\n', log);
            }
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // With port 0 Firefox picks a free port and writes it into the profile.
        var portFile = Path.Combine(profile.FullName, "WebDriverBiDiServer.json");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        int port = 0;
        while (port == 0)
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var exited = process.HasExited;
                process.Kill(entireProcessTree: true);
                Assert.Fail($"Firefox did not start its WebDriver BiDi endpoint (exited: {exited}).\n{Text()}");
            }
            await Task.Delay(100);
            try
            {
                if (File.Exists(portFile))
                {
                    using var json = JsonDocument.Parse(await File.ReadAllTextAsync(portFile));
                    port = json.RootElement.GetProperty("ws_port").GetInt32();
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException)
            {
                // Still being written.
            }
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var connection = await CdpConnection.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/session"), timeout.Token);
        var firefox = new Firefox(process, profile, connection, downloads);
        try
        {
            // The tests' HTTPS servers use self-signed certificates (only ever on loopback).
            await connection.SendAsync("session.new", new JsonObject
            {
                ["capabilities"] = new JsonObject { ["alwaysMatch"] = new JsonObject { ["acceptInsecureCerts"] = true } },
            });
            // One subscription for every tab; each tab keeps the entries of its own context.
            await connection.SendAsync("session.subscribe", new JsonObject { ["events"] = new JsonArray("log.entryAdded") });
        }
        catch
        {
            await firefox.DisposeAsync();
            throw;
        }
        return firefox;
    }

    /// <summary>A new window (not a tab: a background tab counts as hidden and gets no animation frames), at 1280×800.</summary>
    public async Task<FirefoxTab> NewTabAsync()
    {
        var context = (await Connection.SendAsync("browsingContext.create", new JsonObject { ["type"] = "window" }))
            .GetProperty("context").GetString()!;
        return await FirefoxTab.AttachAsync(Connection, context);
    }
}
