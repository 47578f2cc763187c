using System.Text;

namespace VideoEdge.Configuration;

/// <summary>
/// Reads settings from the --config file, then VIDEOEDGE_* environment variables, then command-line
/// flags: flag &gt; environment &gt; file &gt; built-in default. Repeatable settings (--camera,
/// --allow-origin) add up across all three. Then builds each camera's own settings, once.
/// </summary>
public static class OptionsParser
{
    public static IReadOnlyList<OptionSpec> Specs { get; } =
    [
        .. EdgeOptions.FileSpecs,
        .. EdgeOptions.CoreSpecs,
        .. EdgeOptions.CameraSpecs,
        .. EdgeOptions.RemoteSpecs,
        .. EdgeOptions.SecuritySpecs,
        .. EdgeOptions.TransformSpecs,
        .. EdgeOptions.BusSpecs,
        .. EdgeOptions.BusHubSpecs,
    ];

    /// <summary>Parsed options, or the one line that tells the user what is wrong.</summary>
    public static (EdgeOptions? Options, string? Error) Parse(IReadOnlyList<string> args, Func<string, string?> environment) =>
        Parse(args, environment, Specs);

    /// <summary>The same, for a command that takes its own set of settings (video-edge push).</summary>
    public static (EdgeOptions? Options, string? Error) Parse(IReadOnlyList<string> args, Func<string, string?> environment, IReadOnlyList<OptionSpec> specs)
    {
        var options = new EdgeOptions();
        if (specs.Any(s => s.Name == EdgeOptions.ConfigSetting) && ConfigPath(args, environment) is { } path)
        {
            options.ConfigFile = path;
            if (ConfigFile.Apply(path, options, specs) is { } fileError)
            {
                return (null, fileError);
            }
        }
        foreach (var spec in specs)
        {
            var value = environment(spec.EnvironmentVariable);
            if (value is null)
            {
                continue;
            }
            if (spec.Repeatable)
            {
                foreach (var item in value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (Apply(spec, options, item, "env " + spec.EnvironmentVariable) is { } itemError)
                    {
                        return (null, $"{spec.EnvironmentVariable}={Security.SourceText.Redact(item)}: expected {itemError}");
                    }
                }
            }
            else if (Apply(spec, options, value, "env " + spec.EnvironmentVariable) is { } error)
            {
                return (null, $"{spec.EnvironmentVariable}={Security.SourceText.Redact(value)}: expected {error}");
            }
        }

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                return (null, $"unexpected argument '{arg}' (settings are --name value; see --help)");
            }
            var name = arg[2..];
            string? inline = null;
            var eq = name.IndexOf('=');
            if (eq >= 0)
            {
                inline = name[(eq + 1)..];
                name = name[..eq];
            }
            var spec = specs.FirstOrDefault(s => s.Name == name);
            if (spec is null)
            {
                return (null, $"unknown setting '--{name}' (see --help for the list)");
            }
            string value;
            if (inline is not null)
            {
                value = inline;
            }
            else if (spec.IsSwitch && (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal) || EdgeOptions.ParseBool(args[i + 1], _ => { }) is not null))
            {
                value = "on";
            }
            else if (i + 1 < args.Count)
            {
                value = args[++i];
            }
            else
            {
                return (null, $"--{name} needs a value");
            }
            if (Apply(spec, options, value, "flag " + spec.Flag) is { } error)
            {
                return (null, $"--{name} {Security.SourceText.Redact(value)}: expected {error}");
            }
        }
        if (options.ValidateSecurity() is { } invalid || (invalid = BuildCameras(options)) is not null)
        {
            return (null, invalid);
        }
        return (options, null);
    }

    private static string? Apply(OptionSpec spec, EdgeOptions options, string value, string origin)
    {
        options.ApplyingFrom = origin;
        var error = spec.Apply(options, value);
        if (error is null)
        {
            options.Given.Add(new GivenValue(spec.Name, value, origin));
        }
        return error;
    }

    /// <summary>The last --config flag, else VIDEOEDGE_CONFIG: read before the rest, so both can override it.</summary>
    private static string? ConfigPath(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        string? path = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--" + EdgeOptions.ConfigSetting && i + 1 < args.Count)
            {
                path = args[++i];
            }
            else if (args[i].StartsWith("--" + EdgeOptions.ConfigSetting + "=", StringComparison.Ordinal))
            {
                path = args[i][(EdgeOptions.ConfigSetting.Length + 3)..];
            }
        }
        path ??= environment("VIDEOEDGE_CONFIG");
        return string.IsNullOrWhiteSpace(path) ? null : path.Trim();
    }

    /// <summary>
    /// --source (or the file's "source") is camera "main"; each --camera or cameras.NAME adds one; with
    /// none of them "main" is auto. Each camera gets a copy of the global settings with its own over them.
    /// </summary>
    private static string? BuildCameras(EdgeOptions options)
    {
        var cameras = new List<CameraConfig>();
        if (options.CameraDefinitions.Count == 0 || options.SourceGiven)
        {
            var origin = options.Given.LastOrDefault(g => g.Name is "source" or "device")?.Origin ?? "default";
            cameras.Add(new CameraConfig("main", options.Source, options.CopyForCamera(), origin));
        }
        foreach (var definition in options.CameraDefinitions)
        {
            if (cameras.FirstOrDefault(c => c.Name == definition.Name) is { } first)
            {
                return $"--camera {definition.Name}=…: the name '{definition.Name}' is used twice ({first.Origin}; {definition.Origin})";
            }
            cameras.Add(definition.Build(options));
        }
        options.CameraConfigs = cameras;
        return null;
    }

    public static string Help() => Help(Specs,
        "video-edge: serve a camera as MJPEG over HTTP, JPEG over WebSocket and snapshots.",
        "Usage: video-edge [--setting value]...\n       video-edge push --help   (send a camera to another video-edge)\n       video-edge --help");

    public static string Help(IReadOnlyList<OptionSpec> specs, string title, string usage)
    {
        var sb = new StringBuilder();
        sb.AppendLine(title);
        sb.AppendLine();
        sb.AppendLine(usage);
        sb.AppendLine();
        sb.AppendLine("Every setting can also come from its environment variable or the --config file (a JSON object with");
        sb.AppendLine("these names as keys): a flag wins over the variable, the variable over the file, the file over the default.");
        if (specs.Any(s => s.PerCamera))
        {
            sb.AppendLine("Settings marked (per camera) can differ per camera: --camera NAME=SOURCE,SETTING=VALUE,... or");
            sb.AppendLine("\"cameras\": { \"NAME\": { \"source\": ..., \"SETTING\": VALUE } } in the file; the global value is the default.");
        }
        sb.AppendLine();
        foreach (var spec in specs)
        {
            var flag = spec.IsSwitch ? spec.Flag : spec.Flag + " VALUE";
            sb.Append("  ").Append(flag.PadRight(30)).Append(spec.PerCamera ? "(per camera) " : "").Append(spec.Help).AppendLine();
            sb.Append("  ").Append("".PadRight(30)).Append("default: ").Append(spec.Default.Length == 0 ? "(none)" : spec.Default)
              .Append("   env: ").Append(spec.EnvironmentVariable);
            if (spec.Repeatable)
            {
                sb.Append(" (repeatable; in the variable separate with ';')");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
