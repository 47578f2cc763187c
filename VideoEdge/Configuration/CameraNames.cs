using System.Text.RegularExpressions;

namespace VideoEdge.Configuration;

/// <summary>What a camera may be called: it appears in URLs (/cams/NAME/), bus subjects and file keys.</summary>
public static partial class CameraNames
{
    public const string Pattern = "[a-z0-9_-]{1,32}";

    public static bool IsValid(string name) => Regex().IsMatch(name);

    [GeneratedRegex("^" + Pattern + "$")]
    private static partial Regex Regex();
}
