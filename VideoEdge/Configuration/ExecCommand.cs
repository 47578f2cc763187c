using System.Text;

namespace VideoEdge.Configuration;

/// <summary>
/// The command line of an <c>exec:</c> source, split into the program and its arguments the way a
/// POSIX shell splits words — blanks separate, '…' is literal, "…" keeps blanks and honours \" \\ \$
/// \`, a backslash outside quotes escapes the next character — but nothing is expanded and no
/// shell runs, so the value cannot smuggle in a second command.
/// </summary>
public static class ExecCommand
{
    public const string Prefix = "exec:";

    /// <summary>The words of <paramref name="text"/>, or null with the reason in <paramref name="error"/>.</summary>
    public static IReadOnlyList<string>? Split(string text, out string? error)
    {
        error = null;
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case ' ' or '\t' or '\n' or '\r':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }
                    break;
                case '\'':
                    var close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        error = "a ' without its closing '";
                        return null;
                    }
                    word.Append(text, i + 1, close - i - 1);
                    i = close;
                    inWord = true;
                    break;
                case '"':
                    i++;
                    while (i < text.Length && text[i] != '"')
                    {
                        if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            i++;
                        }
                        word.Append(text[i]);
                        i++;
                    }
                    if (i >= text.Length)
                    {
                        error = "a \" without its closing \"";
                        return null;
                    }
                    inWord = true;
                    break;
                case '\\' when i + 1 < text.Length:
                    i++;
                    if (text[i] != '\n')
                    {
                        word.Append(text[i]);
                        inWord = true;
                    }
                    break;
                default:
                    word.Append(c);
                    inWord = true;
                    break;
            }
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        if (words.Count == 0)
        {
            error = "a program to run";
            return null;
        }
        return words;
    }

    /// <summary>The words as one line a shell would split back into them (for logs and /api/state).</summary>
    public static string Join(IEnumerable<string> words) => string.Join(' ', words.Select(Quote));

    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '=' or ',' or '+' or '@' or '%')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
