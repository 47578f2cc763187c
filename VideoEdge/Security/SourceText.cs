using System.Text.RegularExpressions;

namespace VideoEdge.Security;

/// <summary>
/// The one way a source is shown (in /api/state, /healthz, the log, the no-signal picture): every URL
/// in the text loses its user:password@ and its query string, where cameras and relays carry their
/// secrets (rtsp://admin:pw@…, …/stream.mjpg?token=…). What is left still says which camera it is.
/// </summary>
public static partial class SourceText
{
    /// <summary><paramref name="text"/> (a source, or a message about one) with every URL's secrets replaced by ***.</summary>
    public static string Redact(string text) =>
        text.Contains("://", StringComparison.Ordinal) ? Url().Replace(text, static m => RedactUrl(m.Value)) : text;

    private static string RedactUrl(string url)
    {
        var authorityStart = url.IndexOf("://", StringComparison.Ordinal) + 3;
        var authorityEnd = url.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0)
        {
            authorityEnd = url.Length;
        }
        var at = url.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart);
        var head = at < 0 ? url[..authorityEnd] : url[..authorityStart] + "***" + url[at..authorityEnd];
        var rest = url[authorityEnd..];
        var query = rest.IndexOfAny(['?', '#']);
        return query < 0 ? head + rest : head + rest[..query] + (rest[query] == '?' ? "?***" : "");
    }

    // A scheme (mjpeg+http, rtsp, …), then everything up to whitespace or a quote.
    [GeneratedRegex(@"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'""<>]+")]
    private static partial Regex Url();
}
