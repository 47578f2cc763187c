using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace VideoEdge.Configuration;

/// <summary>
/// Reads the --config file with Microsoft.Extensions.Configuration's JSON provider (comments and
/// trailing commas allowed) and applies every value through the same <see cref="OptionSpec"/> as a
/// flag, so validation cannot differ. The tree is walked by hand rather than bound: a key that is no
/// setting is an error (a typo must not be ignored), and the reflection binder is not AOT-safe.
/// </summary>
internal static partial class ConfigFile
{
    public const string CamerasKey = "cameras";
    private const string SourceKey = "source";

    /// <summary>Settings that act rather than configure, and --camera's string form: not keys of the file.</summary>
    private static readonly string[] s_notInFile = [EdgeOptions.ConfigSetting, "print-config", "list-devices"];

    /// <summary>Applies the file to <paramref name="options"/>; returns the one line that says what is wrong, or null.</summary>
    public static string? Apply(string path, EdgeOptions options, IReadOnlyList<OptionSpec> specs)
    {
        OrderedJsonProvider provider;
        ConfigurationRoot root;
        try
        {
            using var stream = File.OpenRead(path);
            provider = new OrderedJsonProvider(new JsonStreamConfigurationSource { Stream = stream });
            // Loads the provider (once) while the stream is open.
            root = new ConfigurationRoot([provider]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"{path}: cannot read the configuration file ({ex.Message})";
        }
        catch (JsonException ex)
        {
            // The reader counts from 0 and appends its own "LineNumber: 0 | BytePositionInLine: 11."
            var reason = ex.Message.Split(" LineNumber:")[0].Trim();
            return $"{path}: not valid JSON at line {ex.LineNumber + 1}, column {ex.BytePositionInLine + 1}: {reason}";
        }
        catch (FormatException ex)
        {
            // "A duplicate key 'cameras:door:source' was found.": the provider's keys are case-insensitive.
            return DuplicateKey().Match(ex.Message) is { Success: true } duplicate
                ? $"{path}: {KeyPath(duplicate.Groups[1].Value)}: given twice (keys and camera names are case-insensitive: give each once)"
                : $"{path}: {ex.Message}";
        }
        foreach (var child in Ordered(root.GetChildren(), provider))
        {
            if (child.Key.Equals(CamerasKey, StringComparison.OrdinalIgnoreCase))
            {
                if (ApplyCameras(path, child, options, provider) is { } cameraError)
                {
                    return cameraError;
                }
                continue;
            }
            var spec = specs.FirstOrDefault(s => s.Name.Equals(child.Key, StringComparison.OrdinalIgnoreCase) && !s_notInFile.Contains(s.Name));
            if (spec is null)
            {
                return $"{path}: {KeyPath(child.Path)}: unknown setting (the keys are the setting names of video-edge --help, and \"{CamerasKey}\")";
            }
            var values = child.Value is { } single ? [single]
                : spec.Repeatable ? child.GetChildren().Select(c => c.Value).ToList()
                : [];
            if (values.Count == 0 || values.Any(v => v is null))
            {
                return $"{path}: {KeyPath(child.Path)}: expected {(spec.Repeatable ? "a value or a list of values" : "a single value")}, not {(child.GetChildren().Any() ? "an object or a list" : "null or empty")}";
            }
            foreach (var value in values)
            {
                options.ApplyingFrom = "file";
                if (spec.Apply(options, value!) is { } allowed)
                {
                    return $"{path}: {KeyPath(child.Path)}: {Shown(spec, value!)}: expected {allowed}";
                }
                options.Given.Add(new GivenValue(spec.Name, value!, "file"));
            }
        }
        return null;
    }

    private static string? ApplyCameras(string path, IConfigurationSection cameras, EdgeOptions options, OrderedJsonProvider provider)
    {
        if (cameras.Value is not null)
        {
            return $"{path}: {KeyPath(cameras.Path)}: expected an object of cameras by name, e.g. \"cameras\": {{ \"door\": {{ \"source\": \"/dev/video0\", \"fps\": 15 }} }}";
        }
        var perCamera = CameraDefinition.PerCameraSpecs.ToList();
        var allowedKeys = $"{SourceKey}, {string.Join(", ", perCamera.Select(s => s.Name))}";
        foreach (var camera in Ordered(cameras.GetChildren(), provider))
        {
            var at = KeyPath(camera.Path);
            if (!CameraNames.IsValid(camera.Key))
            {
                return $"{path}: {at}: a camera name must match [a-z0-9_-]{{1,32}} (lower case)";
            }
            // "door": "/dev/video0" is a camera with the global settings.
            var source = camera.Value;
            var overrides = new List<CameraOverride>();
            foreach (var setting in Ordered(camera.GetChildren(), provider))
            {
                var key = KeyPath(setting.Path);
                if (setting.Value is null)
                {
                    return $"{path}: {key}: expected a single value, not {(setting.GetChildren().Any() ? "an object or a list" : "null or empty")}";
                }
                if (setting.Key.Equals(SourceKey, StringComparison.OrdinalIgnoreCase))
                {
                    source = setting.Value;
                    continue;
                }
                var spec = perCamera.FirstOrDefault(s => s.Name.Equals(setting.Key, StringComparison.OrdinalIgnoreCase));
                if (spec is null)
                {
                    return $"{path}: {key}: unknown key (a camera takes: {allowedKeys})";
                }
                if (spec.Apply(new EdgeOptions(), setting.Value) is { } allowed)
                {
                    return $"{path}: {key}: {setting.Value}: expected {allowed}";
                }
                overrides.Add(new CameraOverride(spec, setting.Value, "file"));
            }
            if (string.IsNullOrWhiteSpace(source))
            {
                return $"{path}: {at}.{SourceKey}: missing (expected a source such as /dev/video0, test, rtsp://… or file:PATH)";
            }
            var definition = new CameraDefinition(camera.Key, source.Trim(), overrides, "file");
            if (definition.SourceProblem is { } problem)
            {
                return $"{path}: {at}.{SourceKey}: {source}: expected {problem}";
            }
            options.CameraDefinitions.Add(definition);
        }
        return null;
    }

    /// <summary>cameras:door:fps as users write it: cameras.door.fps.</summary>
    private static string KeyPath(string path) => path.Replace(ConfigurationPath.KeyDelimiter, ".", StringComparison.Ordinal);

    private static string Shown(OptionSpec spec, string value) => spec.IsSecret ? "(redacted)" : value;

    /// <summary>
    /// Sections in the order the file has them (GetChildren sorts by key), so cameras appear on the
    /// page in the order they were written.
    /// </summary>
    private static IEnumerable<IConfigurationSection> Ordered(IEnumerable<IConfigurationSection> sections, OrderedJsonProvider provider)
    {
        var order = provider.KeysInFileOrder();
        return sections.OrderBy(s => order.FindIndex(k => k.StartsWith(s.Path, StringComparison.OrdinalIgnoreCase)
            && (k.Length == s.Path.Length || k[s.Path.Length] == ':')));
    }

    [GeneratedRegex("'([^']+)'")]
    private static partial Regex DuplicateKey();

    /// <summary>The JSON provider, with its keys in the order it read them (its dictionary keeps insertion order).</summary>
    private sealed class OrderedJsonProvider(JsonStreamConfigurationSource source) : JsonStreamConfigurationProvider(source)
    {
        public List<string> KeysInFileOrder() => [.. Data.Keys];
    }
}
