using VideoEdge.Interop;

namespace VideoEdge.Sources.V4l2;

/// <summary>The outcome of setting a control, for the HTTP layer to phrase.</summary>
public enum ControlSetStatus { Set, Unknown, OutOfRange, ReadOnly, Refused, Offline }

public readonly record struct ControlSetResult(ControlSetStatus Status, V4l2ControlInfo? Control, string Detail);

/// <summary>
/// Camera controls read and written through the capture's open device, from request threads.
/// The capture thread owns the fd; G/S_CTRL on it from another thread is fine, so the only thing
/// to guard is the device being closed (and its fd number reused) in the middle of a call.
/// </summary>
public sealed class V4l2Controls
{
    private readonly Lock _lock = new();
    private V4l2Device? _device;

    internal void Attach(V4l2Device device)
    {
        lock (_lock)
        {
            _device = device;
        }
    }

    /// <summary>Called before the device is closed; waits for a control call in progress.</summary>
    internal void Detach()
    {
        lock (_lock)
        {
            _device = null;
        }
    }

    /// <summary>Every control with its current value, or null while the camera is not open.</summary>
    public IReadOnlyList<V4l2ControlInfo>? List()
    {
        lock (_lock)
        {
            return _device?.QueryControls();
        }
    }

    /// <summary>Sets the control named <paramref name="name"/> (its key, as listed) after checking the allowed values.</summary>
    public ControlSetResult Set(string name, int value)
    {
        lock (_lock)
        {
            if (_device is not { } device)
            {
                return new(ControlSetStatus.Offline, null, "the camera is not open");
            }
            var control = device.QueryControls().FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
            if (control is null)
            {
                return new(ControlSetStatus.Unknown, null, $"the camera has no control '{name}'");
            }
            if (control.ReadOnly)
            {
                return new(ControlSetStatus.ReadOnly, control, $"'{control.Name}' is read-only");
            }
            if (control.Menu.Count > 0 && !control.Menu.Any(m => m.Index == value))
            {
                return new(ControlSetStatus.OutOfRange, control,
                    $"'{control.Name}' accepts {string.Join(", ", control.Menu.Select(m => $"{m.Index} ({m.Name})"))}; got {value}");
            }
            if (value < control.Minimum || value > control.Maximum)
            {
                return new(ControlSetStatus.OutOfRange, control,
                    $"'{control.Name}' accepts {control.Minimum} to {control.Maximum}{(control.Step > 1 ? $" in steps of {control.Step}" : "")}; got {value}");
            }
            var errno = device.TrySetControl(control.Id, value);
            if (errno == Libc.ERANGE)
            {
                return new(ControlSetStatus.OutOfRange, control, $"the camera refused {value} for '{control.Name}' (allowed {control.Minimum} to {control.Maximum})");
            }
            if (errno != 0)
            {
                return new(ControlSetStatus.Refused, control, $"the camera refused to set '{control.Name}': {Libc.Describe(errno)}"
                    + (control.Inactive ? " (it is inactive: an automatic mode controls it)" : ""));
            }
            var updated = device.QueryControls().First(c => c.Id == control.Id);
            return new(ControlSetStatus.Set, updated, "");
        }
    }
}
