using System.Diagnostics;
using System.Text.Json;

namespace VideoEdge.Tests.Browser;

/// <summary>
/// A headless browser we started, with its fresh profile and its debugging connection; disposing it
/// asks the browser to close (its protocol's close command), kills it if it does not, and deletes
/// the profile.
/// </summary>
public abstract class BrowserProcess(Process process, DirectoryInfo profile, CdpConnection connection, string closeMethod) : IAsyncDisposable
{
    protected Process Process { get; } = process;

    public CdpConnection Connection { get; } = connection;

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await Connection.SendAsync(closeMethod).WaitAsync(timeout.Token);
            await Process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is CdpException or OperationCanceledException or TimeoutException or JsonException)
        {
        }
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }
        await Connection.DisposeAsync();
        Process.Dispose();
        try
        {
            profile.Delete(recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
