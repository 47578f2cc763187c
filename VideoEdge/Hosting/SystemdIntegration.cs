using Microsoft.Extensions.Hosting.Systemd;

namespace VideoEdge.Hosting;

/// <summary>
/// The systemd notify protocol (READY=1 once started, STOPPING=1, STATUS=, WATCHDOG=1) and journal
/// log levels. .NET's own AddSystemd() recognises systemd by reading its parent's /proc entry, which
/// the unit's ProtectProc=invisible hides; NOTIFY_SOCKET is what systemd actually hands a
/// Type=notify service, so that decides here. Without it (a terminal, the tests) nothing is added.
/// </summary>
public static class SystemdIntegration
{
    public static void AddEdgeSystemd(this WebApplicationBuilder builder)
    {
        builder.Services.AddSystemd();
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
        {
            return;
        }
        // Journal priorities (<6>, <4>, …) instead of the terminal format; journald adds the time.
        builder.Logging.AddSystemdConsole();
        builder.Services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
        // The last IHostLifetime registered is the one the host uses: READY=1 when the host has
        // started (Kestrel bound, every camera opened or retrying), STOPPING=1 on SIGTERM.
        builder.Services.AddSingleton<IHostLifetime, SystemdLifetime>();
        builder.Services.AddSingleton(SystemdWatchdogSettings.FromEnvironment(Environment.GetEnvironmentVariable, Environment.ProcessId));
        builder.Services.AddHostedService<SystemdWatchdog>();
    }
}
