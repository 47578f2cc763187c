namespace VideoEdge.Configuration;

/// <summary>The configuration file, and what --print-config reports: every value given and where from.</summary>
public sealed partial class EdgeOptions
{
    public const string ConfigSetting = "config";

    /// <summary>The --config file (or VIDEOEDGE_CONFIG) that was read; null: none.</summary>
    public string? ConfigFile { get; set; }
    public bool PrintConfig { get; set; }

    /// <summary>Where the value being applied comes from ("flag --fps", "env VIDEOEDGE_FPS", "file"): a camera keeps it as its origin.</summary>
    internal string ApplyingFrom { get; set; } = "default";

    /// <summary>Every value accepted, in the order applied (file, environment, flags): the last one of a setting is in effect.</summary>
    internal List<GivenValue> Given { get; } = [];

    internal static IEnumerable<OptionSpec> FileSpecs =>
    [
        new(ConfigSetting, null, "JSON file with settings for the whole server: these names as keys, and \"cameras\": { \"NAME\": { \"source\": …, per-camera settings } } (see README). Environment variables and flags override it.",
            // Empty: no file (VIDEOEDGE_CONFIG= in /etc/default/video-edge turns off the unit's default).
            (o, v) => { o.ConfigFile = v.Trim() is { Length: > 0 } path ? path : null; return null; }),
        new("print-config", o => Shown(o.PrintConfig), "Print the effective configuration (secrets redacted) with where each value came from (default, file, env, flag), then exit.",
            (o, v) => ParseBool(v, x => o.PrintConfig = x), IsSwitch: true),
    ];
}

/// <summary>One value as given: the setting's name, the text, and where it came from.</summary>
internal sealed record GivenValue(string Name, string Value, string Origin);
