namespace VideoEdge.Configuration;

/// <summary>One camera to run: its name, its source, and its settings (the global ones with its own applied).</summary>
public sealed record CameraConfig(string Name, SourceSpec Source, EdgeOptions Settings, string Origin);

/// <summary>A per-camera setting given for one camera, and where it was given.</summary>
internal sealed record CameraOverride(OptionSpec Spec, string Value, string Origin);

/// <summary>A camera as given by --camera, VIDEOEDGE_CAMERA or the file, before the global settings are known.</summary>
internal sealed record CameraDefinition(string Name, string Source, IReadOnlyList<CameraOverride> Overrides, string Origin)
{
    private readonly (SourceSpec? Spec, string? Problem) _source = ParseSource(Source);

    /// <summary>The source, parsed with the definition; null when it is not a valid one (see <see cref="SourceProblem"/>).</summary>
    public SourceSpec? Spec => _source.Spec;

    /// <summary>What a source must look like, when <see cref="Source"/> is not one.</summary>
    public string? SourceProblem => _source.Problem;

    public static IEnumerable<OptionSpec> PerCameraSpecs => OptionsParser.Specs.Where(s => s.PerCamera);

    /// <summary>
    /// NAME=SOURCE[,SETTING=VALUE]...: the trailing comma-separated pairs whose name is a per-camera
    /// setting are the camera's own settings; everything before the first of them is the source, commas
    /// and all (rtsp://cam/live?a=1,b=2 or an exec: command keep theirs). Null when NAME or SOURCE is bad.
    /// </summary>
    public static CameraDefinition? Parse(string text, string origin)
    {
        var eq = text.IndexOf('=');
        if (eq <= 0 || !CameraNames.IsValid(text[..eq]))
        {
            return null;
        }
        var parts = text[(eq + 1)..].Split(',');
        var overrides = new List<CameraOverride>();
        var sourceParts = parts.Length;
        while (sourceParts > 1)
        {
            var part = parts[sourceParts - 1];
            var pairEq = part.IndexOf('=');
            var spec = pairEq > 0 ? PerCameraSpecs.FirstOrDefault(s => s.Name == part[..pairEq].Trim()) : null;
            if (spec is null)
            {
                break;
            }
            overrides.Insert(0, new CameraOverride(spec, part[(pairEq + 1)..], origin));
            sourceParts--;
        }
        var source = string.Join(',', parts[..sourceParts]).Trim();
        return source.Length == 0 ? null : new CameraDefinition(text[..eq], source, overrides, origin);
    }

    private static (SourceSpec?, string?) ParseSource(string text) => (SourceSpec.Parse(text, out var problem), problem);

    /// <summary>The first own setting whose value is not allowed, as "fps to be …"; null when all are.</summary>
    public string? Invalid()
    {
        var scratch = new EdgeOptions();
        foreach (var o in Overrides)
        {
            if (o.Spec.Apply(scratch, o.Value) is { } allowed)
            {
                return $"{o.Spec.Name} to be {allowed}";
            }
        }
        return null;
    }

    /// <summary>The camera with the global settings and, over them, its own (already validated: <see cref="Spec"/> and <see cref="Invalid"/>).</summary>
    public CameraConfig Build(EdgeOptions global)
    {
        var settings = global.CopyForCamera();
        foreach (var o in Overrides)
        {
            o.Spec.Apply(settings, o.Value);
        }
        return new CameraConfig(Name, Spec!, settings, Origin);
    }
}
