using System.Text;

namespace VideoEdge.Configuration;

/// <summary>Reads settings from VIDEOEDGE_* environment variables, then command-line flags (flags win).</summary>
public static class OptionsParser
{
    public static IReadOnlyList<OptionSpec> Specs { get; } =
    [
        .. EdgeOptions.CoreSpecs,
        .. EdgeOptions.CameraSpecs,
        .. EdgeOptions.RemoteSpecs,
        .. EdgeOptions.SecuritySpecs,
        .. EdgeOptions.TransformSpecs,
    ];

    /// <summary>Parsed options, or the one line that tells the user what is wrong.</summary>
    public static (EdgeOptions? Options, string? Error) Parse(IReadOnlyList<string> args, Func<string, string?> environment) =>
        Parse(args, environment, Specs);

    /// <summary>The same, for a command that takes its own set of settings (video-edge push).</summary>
    public static (EdgeOptions? Options, string? Error) Parse(IReadOnlyList<string> args, Func<string, string?> environment, IReadOnlyList<OptionSpec> specs)
    {
        var options = new EdgeOptions();
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
                    if (spec.Apply(options, item) is { } itemError)
                    {
                        return (null, $"{spec.EnvironmentVariable}={Security.SourceText.Redact(item)}: expected {itemError}");
                    }
                }
            }
            else if (spec.Apply(options, value) is { } error)
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
            if (spec.Apply(options, value) is { } error)
            {
                return (null, $"--{name} {Security.SourceText.Redact(value)}: expected {error}");
            }
        }
        return options.ValidateSecurity() is { } invalid ? (null, invalid) : (options, null);
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
        sb.AppendLine("Every setting can also come from its environment variable; a flag wins over the variable.");
        sb.AppendLine();
        foreach (var spec in specs)
        {
            var flag = spec.IsSwitch ? spec.Flag : spec.Flag + " VALUE";
            sb.Append("  ").Append(flag.PadRight(30)).Append(spec.Help).AppendLine();
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
