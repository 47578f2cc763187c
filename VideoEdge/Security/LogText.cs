namespace VideoEdge.Security;

/// <summary>Makes client-supplied text safe to put in a log line.</summary>
public static class LogText
{
    private const int MaxChars = 120;

    /// <summary>
    /// Control characters (a decoded %0A in a path would start a forged log line) become '?', and
    /// long values are cut, so a client cannot shape or flood the log through what it sends.
    /// </summary>
    public static string Safe(string value)
    {
        var clean = true;
        foreach (var c in value)
        {
            if (IsUnsafe(c))
            {
                clean = false;
                break;
            }
        }
        if (clean && value.Length <= MaxChars)
        {
            return value;
        }
        var length = Math.Min(value.Length, MaxChars);
        return string.Create(length + (value.Length > MaxChars ? 1 : 0), value, static (span, v) =>
        {
            var n = Math.Min(v.Length, MaxChars);
            for (var i = 0; i < n; i++)
            {
                span[i] = IsUnsafe(v[i]) ? '?' : v[i];
            }
            if (span.Length > n)
            {
                span[n] = '…';
            }
        });
    }

    private static bool IsUnsafe(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
