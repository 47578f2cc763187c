namespace VideoEdge.Configuration;

/// <summary>
/// One setting: its flag, its environment variable, its default as shown in --help, and how a value
/// is applied. Apply returns null when the value is accepted, or what is allowed when it is not.
/// </summary>
public sealed record OptionSpec(
    string Name,
    string Default,
    string Help,
    Func<EdgeOptions, string, string?> Apply,
    bool IsSwitch = false,
    bool Repeatable = false)
{
    public string Flag => "--" + Name;
    public string EnvironmentVariable => "VIDEOEDGE_" + Name.ToUpperInvariant().Replace('-', '_');
}
