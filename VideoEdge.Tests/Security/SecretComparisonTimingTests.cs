using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using VideoEdge.Configuration;
using VideoEdge.Security;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>The credential check is timing-safe: how long it takes does not reveal how much of a guess was right.</summary>
[Collection(TimingSensitive.Name)]
public sealed class SecretComparisonTimingTests(ITestOutputHelper output)
{
    [Fact]
    public void Checking_a_guess_takes_as_long_whether_it_is_nearly_right_or_wholly_wrong()
    {
        // A long secret makes any early-exit comparison stand out: comparing 32 KB that match up to the
        // last byte costs microseconds more than stopping at the first. Hash-then-FixedTimeEquals costs the same.
        var secret = new string('s', 32 * 1024);
        var options = new EdgeOptions { AuthToken = secret };
        var credentials = new Credentials(options);
        var nearlyRight = Request("Bearer " + secret[..^1] + "x");
        var whollyWrong = Request("Bearer " + "x" + secret[1..]);
        var right = Request("Bearer " + secret);
        Assert.Equal(Credentials.Outcome.Rejected, credentials.Check(nearlyRight));
        Assert.Equal(Credentials.Outcome.Rejected, credentials.Check(whollyWrong));
        Assert.Equal(Credentials.Outcome.Accepted, credentials.Check(right));

        var near = new List<double>();
        var far = new List<double>();
        for (var batch = 0; batch < 31; batch++)
        {
            near.Add(Time(credentials, nearlyRight));
            far.Add(Time(credentials, whollyWrong));
        }
        var ratio = Median(near) / Median(far);
        output.WriteLine($"median per check: nearly right {Median(near) * 1e6:0.00} µs, wholly wrong {Median(far) * 1e6:0.00} µs, ratio {ratio:0.000}");
        Assert.InRange(ratio, 0.85, 1.15);

        static double Time(Credentials credentials, HttpRequest request)
        {
            const int Iterations = 40;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < Iterations; i++)
            {
                credentials.Check(request);
            }
            return clock.Elapsed.TotalSeconds / Iterations;
        }

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

        static HttpRequest Request(string authorization)
        {
            var context = new DefaultHttpContext();
            context.Request.Headers.Authorization = authorization;
            return context.Request;
        }
    }
}
