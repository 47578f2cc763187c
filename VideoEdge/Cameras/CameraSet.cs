using System.Diagnostics.CodeAnalysis;

namespace VideoEdge.Cameras;

/// <summary>Every camera of this process; the first also answers on the top-level paths.</summary>
public sealed class CameraSet(IReadOnlyList<Camera> cameras) : IDisposable
{
    private int _disposed;

    public IReadOnlyList<Camera> All { get; } = cameras;

    public Camera Default => All[0];

    public bool TryGet(string name, [NotNullWhen(true)] out Camera? camera)
    {
        camera = All.FirstOrDefault(c => c.Name == name);
        return camera is not null;
    }

    /// <summary>Stops every camera; safe to call twice (the host stops it, then the container disposes it).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        foreach (var camera in All)
        {
            camera.Dispose();
        }
    }
}
