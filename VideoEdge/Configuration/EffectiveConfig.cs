using System.Text;
using System.Text.RegularExpressions;

namespace VideoEdge.Configuration;

/// <summary>
/// --print-config: every setting in effect and where it came from (default, file, env, flag), each
/// camera with its own settings. What a user runs when "my setting is ignored". Secrets never
/// appear: token and password values are replaced, URLs lose their user:password and query.
/// </summary>
public static partial class EffectiveConfig
{
    private const string Redacted = "(set, redacted)";

    /// <summary>Not settings of the server, so not shown as such.</summary>
    private static readonly string[] s_actions = [EdgeOptions.ConfigSetting, "print-config", "list-devices", "camera"];

    public static string Render(EdgeOptions options, IReadOnlyList<OptionSpec> specs)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# video-edge effective configuration: flag > env > file > default; secrets redacted");
        sb.Append("# file: ").AppendLine(options.ConfigFile ?? "(none)");
        foreach (var spec in specs.Where(s => !s_actions.Contains(s.Name)))
        {
            var given = options.Given.Where(g => g.Name == spec.Name).ToList();
            if (spec.Repeatable && given.Count > 1)
            {
                foreach (var value in given)
                {
                    Line(sb, "", spec.Name, Shown(spec, value.Value), value.Origin);
                }
                continue;
            }
            var last = given.LastOrDefault();
            Line(sb, "", spec.Name, last is null ? DefaultText(spec) : Shown(spec, last.Value), last?.Origin ?? "default");
        }
        foreach (var camera in options.CameraConfigs)
        {
            sb.AppendLine();
            Line(sb, "", $"camera {camera.Name}", "source=" + RedactUrls(camera.Source.Text), camera.Origin);
            var own = options.CameraDefinitions.FirstOrDefault(d => d.Name == camera.Name)?.Overrides ?? [];
            foreach (var spec in specs.Where(s => s.PerCamera))
            {
                if (own.LastOrDefault(o => o.Spec == spec) is { } mine)
                {
                    Line(sb, "  ", spec.Name, Shown(spec, mine.Value), "camera's own, " + mine.Origin);
                    continue;
                }
                var global = options.Given.LastOrDefault(g => g.Name == spec.Name);
                Line(sb, "  ", spec.Name, global is null ? DefaultText(spec) : Shown(spec, global.Value), "inherited, " + (global?.Origin ?? "default"));
            }
        }
        return sb.ToString();
    }

    /// <summary>rtsp://user:pass@cam/live?token=x → rtsp://***@cam/live?***, anywhere in a value.</summary>
    public static string RedactUrls(string text) => Url().Replace(text, m =>
        m.Groups["scheme"].Value
        + (m.Groups["user"].Success ? "***@" : "")
        + m.Groups["rest"].Value
        + (m.Groups["query"].Success ? "?***" : ""));

    private static string Shown(OptionSpec spec, string value) => spec.IsSecret ? Redacted : RedactUrls(value);

    private static string DefaultText(OptionSpec spec) => spec.Default.Length == 0 ? "(none)" : spec.Default;

    private static void Line(StringBuilder sb, string indent, string name, string value, string origin) =>
        sb.Append(indent).Append((name + " = " + value).PadRight(44 - indent.Length)).Append("  # ").AppendLine(origin);

    [GeneratedRegex(@"(?<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?:(?<user>[^/@\s]*)@)?(?<rest>[^\s?#]*)(?:\?(?<query>[^\s#]*))?")]
    private static partial Regex Url();
}
