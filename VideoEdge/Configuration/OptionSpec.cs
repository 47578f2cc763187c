namespace VideoEdge.Configuration;

/// <summary>
/// One setting: its flag, its environment variable, how its current value is shown (which, read from a
/// fresh <see cref="EdgeOptions"/>, is the default --help and --print-config show), and how a value is applied. Apply returns null when the value is accepted, or what is allowed when it is not.
/// The same definition serves the flag, the variable, the --config file and, when PerCamera, a
/// camera's own value (--camera NAME=SOURCE,NAME=VALUE or cameras.NAME.KEY in the file).
/// </summary>
public sealed record OptionSpec(
    string Name,
    Func<EdgeOptions, string>? Current,
    string Help,
    Func<EdgeOptions, string, string?> Apply,
    bool IsSwitch = false,
    bool Repeatable = false,
    bool PerCamera = false)
{
    public string Flag => "--" + Name;

    /// <summary>
    /// The built-in default, read from a fresh <see cref="EdgeOptions"/>: the property initializers are the
    /// one source of truth, so --help cannot show a default the server does not use. Empty: none.
    /// </summary>
    public string Default => Current?.Invoke(new EdgeOptions()) ?? "";
    public string EnvironmentVariable => "VIDEOEDGE_" + Name.ToUpperInvariant().Replace('-', '_');

    /// <summary>A value --print-config must not show (the *-file variants hold paths, which it may).</summary>
    public bool IsSecret => !Name.EndsWith("-file", StringComparison.Ordinal)
        && (Name.Contains("password", StringComparison.Ordinal) || Name.Contains("token", StringComparison.Ordinal) || Name.Contains("secret", StringComparison.Ordinal));
}
