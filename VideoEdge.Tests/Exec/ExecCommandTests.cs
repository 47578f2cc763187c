using VideoEdge.Configuration;
using VideoEdge.Sources;

namespace VideoEdge.Tests.Exec;

/// <summary>exec: command lines are split like a shell splits words, but nothing is expanded.</summary>
public sealed class ExecCommandTests
{
    [Theory]
    [InlineData("rpicam-vid -t 0 --codec mjpeg -o -", new[] { "rpicam-vid", "-t", "0", "--codec", "mjpeg", "-o", "-" })]
    [InlineData("  prog\t a   b  ", new[] { "prog", "a", "b" })]
    [InlineData("prog 'two words' \"and 'more'\"", new[] { "prog", "two words", "and 'more'" })]
    [InlineData("prog \"a \\\"quoted\\\" \\\\ \\$HOME \\x\"", new[] { "prog", "a \"quoted\" \\ $HOME \\x" })]
    [InlineData("prog a\\ b \\'c\\' ''", new[] { "prog", "a b", "'c'", "" })]
    [InlineData("prog $HOME `id` ; rm -rf / | cat > x && *", new[] { "prog", "$HOME", "`id`", ";", "rm", "-rf", "/", "|", "cat", ">", "x", "&&", "*" })]
    [InlineData("pro'g'\"ram\" x", new[] { "program", "x" })]
    public void SplitsLikeAShellWithoutExpanding(string text, string[] words)
    {
        Assert.Equal(words, ExecCommand.Split(text, out var error));
        Assert.Null(error);
        // Joining quotes what needs it, so the description splits back into the same words.
        Assert.Equal(words, ExecCommand.Split(ExecCommand.Join(words), out _));
    }

    [Theory]
    [InlineData("", "a program to run")]
    [InlineData("   ", "a program to run")]
    [InlineData("prog 'open", "'")]
    [InlineData("prog \"open", "\"")]
    public void RefusesWhatCannotBeSplit(string text, string reason)
    {
        Assert.Null(ExecCommand.Split(text, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void AnUnterminatedQuoteIsAStartupErrorNamingTheProblem()
    {
        Assert.Null(SourceSpec.Parse("exec:prog 'open", out var problem));
        Assert.NotNull(problem);
        Assert.Contains("exec:PROGRAM", problem);
        Assert.Equal(["rpicam-vid", "-o", "-"], SourceSpec.Parse("exec:rpicam-vid -o -", out problem)!.Command);
        Assert.Null(problem);
    }
}
