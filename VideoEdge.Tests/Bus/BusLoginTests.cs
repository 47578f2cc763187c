using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using NATS.Client.Core;
using NATS.NKeys;
using VideoEdge.Configuration;
using VideoEdge.Tests.Infrastructure;
using VideoEdge.Tests.MultiCamera;

namespace VideoEdge.Tests.Bus;

/// <summary>
/// Every NATS login the bus options offer, end to end against Debian's nats-server configured to
/// require it: a producer (`video-edge push`) and a hub (--camera shed=bus) log in with secrets from
/// files, the hub's viewer gets the producer's frames byte for byte (judged against a NATS subscriber
/// on the same server), and a producer with a wrong credential is refused and says why.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class BusLoginTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bus-login-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task User_and_password_from_files_carry_frames_and_a_wrong_password_is_refused()
    {
        await using var nats = await ChildProcess.NatsServerAsync(config: """
            authorization { user: "camera", password: "the-right-bus-password" }
            """);
        var bus = $"nats://127.0.0.1:{nats.Port}";
        var right = Write("password", "the-right-bus-password\n");
        await AssertFramesFlowAsync(new NatsOpts { Url = bus, AuthOpts = new NatsAuthOpts { Username = "camera", Password = "the-right-bus-password" } },
            bus, ["--bus-user", "camera", "--bus-password-file", right]);

        var wrong = Write("wrong-password", "not-the-bus-password\n");
        await AssertRefusedAsync(bus, ["--bus-user", "camera", "--bus-password-file", wrong], "--bus-password-file", "not-the-bus-password");
    }

    [Fact]
    public async Task An_nkey_seed_file_carries_frames_and_an_unknown_nkey_is_refused()
    {
        // What `nk -gen user > camera.nk` writes: the seed alone; the server knows only the public key.
        using var user = KeyPair.CreatePair(PrefixByte.User);
        await using var nats = await ChildProcess.NatsServerAsync(config: $$"""
            authorization { users = [ { nkey: "{{user.GetPublicKey()}}" } ] }
            """);
        var bus = $"nats://127.0.0.1:{nats.Port}";
        var seed = Write("camera.nk", user.GetSeed() + "\n");
        await AssertFramesFlowAsync(new NatsOpts { Url = bus, AuthOpts = new NatsAuthOpts { NKey = user.GetPublicKey(), Seed = user.GetSeed() } },
            bus, ["--bus-nkey-file", seed]);

        using var stranger = KeyPair.CreatePair(PrefixByte.User);
        var strangerSeed = Write("stranger.nk", stranger.GetSeed() + "\n");
        await AssertRefusedAsync(bus, ["--bus-nkey-file", strangerSeed], "--bus-nkey-file", stranger.GetSeed());
    }

    [Fact]
    public void An_nkey_file_without_a_user_seed_is_refused_at_start_without_quoting_it()
    {
        using var user = KeyPair.CreatePair(PrefixByte.User);
        // The public key instead of the seed: the mistake the server's config invites.
        var file = Write("public.nk", user.GetPublicKey() + "\n");
        var (options, error) = OptionsParser.Parse(["--bus", "nats://127.0.0.1:4222", "--bus-nkey-file", file], _ => null);
        Assert.Null(options);
        Assert.Contains("--bus-nkey-file", error);
        Assert.Contains("NKey user seed", error);
        Assert.DoesNotContain(user.GetPublicKey(), error);

        // A seed with a broken checksum (one character changed) is refused too. A middle one: the last
        // character of the base32 text also carries padding bits, so changing it (A ↔ B) sometimes
        // changed no byte at all and the seed stayed valid.
        var seed = user.GetSeed();
        var middle = seed.Length / 2;
        var broken = Write("broken.nk", seed[..middle] + (seed[middle] == 'A' ? 'B' : 'A') + seed[(middle + 1)..] + "\n");
        (options, error) = OptionsParser.Parse(["--bus", "nats://127.0.0.1:4222", "--bus-nkey-file", broken], _ => null);
        Assert.Null(options);
        Assert.Contains("NKey user seed", error);
    }

    [Fact]
    public async Task A_creds_file_carries_frames_and_a_user_of_an_unknown_account_is_refused()
    {
        // Operator mode, as `nsc` sets it up: operator → account → user JWTs, signed with their NKeys.
        using var op = KeyPair.CreatePair(PrefixByte.Operator);
        using var account = KeyPair.CreatePair(PrefixByte.Account);
        using var user = KeyPair.CreatePair(PrefixByte.User);
        var operatorJwt = Jwt(op, op, "operator", """{"type":"operator","version":2}""");
        var accountJwt = Jwt(op, account, "cameras", """
            {"limits":{"subs":-1,"data":-1,"payload":-1,"imports":-1,"exports":-1,"wildcards":true,"conn":-1,"leaf":-1},"default_permissions":{"pub":{},"sub":{}},"type":"account","version":2}
            """);
        var userJwt = Jwt(account, user, "camera", UserClaims);
        await using var nats = await ChildProcess.NatsServerAsync(config: $$"""
            operator: "{{operatorJwt}}"
            resolver: MEMORY
            resolver_preload: { {{account.GetPublicKey()}}: "{{accountJwt}}" }
            """);
        var bus = $"nats://127.0.0.1:{nats.Port}";
        var creds = Write("camera.creds", Creds(userJwt, user.GetSeed()));
        await AssertFramesFlowAsync(new NatsOpts { Url = bus, AuthOpts = new NatsAuthOpts { Jwt = userJwt, Seed = user.GetSeed() } },
            bus, ["--bus-creds-file", creds]);

        // A well-formed creds file whose account the server does not know.
        using var otherAccount = KeyPair.CreatePair(PrefixByte.Account);
        using var stranger = KeyPair.CreatePair(PrefixByte.User);
        var strangerCreds = Write("stranger.creds", Creds(Jwt(otherAccount, stranger, "stranger", UserClaims), stranger.GetSeed()));
        await AssertRefusedAsync(bus, ["--bus-creds-file", strangerCreds], "--bus-creds-file", stranger.GetSeed());
    }

    [Fact]
    public async Task Tls_verified_against_the_users_ca_with_a_client_certificate_carries_frames_and_a_server_of_another_ca_is_refused()
    {
        var ca = await CertificateAuthorityAsync("ca");
        var server = await IssueAsync(ca, "server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
        var client = await IssueAsync(ca, "client", "extendedKeyUsage=clientAuth");
        // The server requires TLS and a client certificate from the same CA. A slow handshake on a loaded
        // machine must not be mistaken for a refusal: the default TLS timeout is half a second.
        await using var nats = await ChildProcess.NatsServerAsync(config: $$"""
            tls {
              cert_file: "{{server.Cert}}"
              key_file: "{{server.Key}}"
              ca_file: "{{ca.Cert}}"
              verify: true
              timeout: 10
            }
            """);
        var bus = $"tls://127.0.0.1:{nats.Port}";
        string[] tls = ["--bus-tls-ca", ca.Cert, "--bus-tls-cert", client.Cert, "--bus-tls-key", client.Key];
        await AssertFramesFlowAsync(new NatsOpts { Url = bus, TlsOpts = new NatsTlsOpts { CaFile = ca.Cert, CertFile = client.Cert, KeyFile = client.Key, Mode = TlsMode.Require } },
            bus, tls);

        // The user's CA did not sign this server's certificate: the client must not connect (no skipped verification).
        var otherCa = await CertificateAuthorityAsync("other-ca");
        await using var push = await ProcessServer.LaunchAsync(["push", "--source", "test", "--resolution", "160x120",
            "--to", bus + "/shed", "--bus-tls-ca", otherCa.Cert, "--bus-tls-cert", client.Cert, "--bus-tls-key", client.Key]);
        await ChainTests.WaitUntilAsync(() => push.Output.Contains("TLS with the NATS server failed"), "the producer said TLS failed", 60);
        // It points at the TLS settings, not at the login flags.
        Assert.Contains("--bus-tls-ca holds the CA that signed the server's certificate", push.Output);
        Assert.DoesNotContain("refused our credentials", push.Output);
        Assert.DoesNotContain("connected (the server's max_payload", push.Output);
        Assert.False(push.Process.HasExited, "the producer keeps retrying");

        // The right CA but no client certificate, for a server that verifies clients: refused, and said so.
        await using var anonymous = await ProcessServer.LaunchAsync(["push", "--source", "test", "--resolution", "160x120", "--to", bus + "/shed", "--bus-tls-ca", ca.Cert]);
        await ChainTests.WaitUntilAsync(() => anonymous.Output.Contains("TLS with the NATS server failed"), "the producer without a client certificate said TLS failed", 60);
        Assert.Contains("--bus-tls-cert and --bus-tls-key", anonymous.Output);
        Assert.DoesNotContain("connected (the server's max_payload", anonymous.Output);
    }

    private const string UserClaims = """{"pub":{},"sub":{},"subs":-1,"data":-1,"payload":-1,"type":"user","version":2}""";

    /// <summary>
    /// A producer and a hub with these login flags; a viewer of the hub gets frames that are, byte for
    /// byte, what a NATS subscriber saw the producer publish.
    /// </summary>
    private static async Task AssertFramesFlowAsync(NatsOpts tapOpts, string bus, string[] login)
    {
        await using var tap = await BusTap.StartAsync(tapOpts, "shed");
        await using var push = await ProcessServer.LaunchAsync(["push", "--source", "test", "--fps", "10", "--resolution", "160x120", "--to", bus + "/shed", .. login]);
        await using var hub = await EdgeTestServer.StartAsync(["--camera", "shed=bus", "--bus", bus, .. login, "--bus-frame-timeout", "10"]);
        await using var viewer = await MjpegClient.ConnectAsync(hub.BaseUrl + "/cams/shed/stream.mjpg");
        await ReadFramesFromBusAsync(tap, viewer, "shed", 5, TimeSpan.FromSeconds(60));
        Assert.DoesNotContain("refused", push.Output);
    }

    /// <summary>
    /// Reads until <paramref name="count"/> parts were frames from the bus, each byte-identical to the
    /// bus's copy; once the first arrived, every part must be one (no-signal pictures only before it).
    /// </summary>
    internal static async Task ReadFramesFromBusAsync(BusTap tap, MjpegClient viewer, string camera, int count, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var matched = 0;
        while (matched < count)
        {
            var part = await viewer.ReadPartAsync(timeout.Token);
            var stamp = part.Headers["X-Timestamp"];
            // The tap may store a frame a moment after the hub served it.
            for (var i = 0; i < 40 && !tap.Frames[camera].ContainsKey(stamp); i++)
            {
                await Task.Delay(50);
            }
            if (tap.Frames[camera].TryGetValue(stamp, out var frame))
            {
                Assert.True(frame.Jpeg.AsSpan().SequenceEqual(part.Body), $"{camera}: frame {frame.Sequence} differs from the bus's bytes");
                matched++;
            }
            else
            {
                Assert.True(matched == 0, $"{camera}: a part (X-Timestamp {stamp}) that was never on the bus, after {matched} that were");
            }
        }
    }

    /// <summary>A producer with these (wrong) login flags is refused, says so with the server's words and the flag to check, and never prints the secret.</summary>
    private static async Task AssertRefusedAsync(string bus, string[] login, string flag, string secret)
    {
        await using var push = await ProcessServer.LaunchAsync(["push", "--source", "test", "--resolution", "160x120", "--to", bus + "/shed", .. login]);
        await ChainTests.WaitUntilAsync(() => push.Output.Contains("refused our credentials"), "the producer said it was refused", 60);
        Assert.Contains("Authorization Violation", push.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(flag, push.Output);
        Assert.DoesNotContain(secret, push.Output);
        Assert.DoesNotContain("connected (the server's max_payload", push.Output);
        Assert.False(push.Process.HasExited, "the producer keeps retrying (the operator may fix the server's side)");
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A NATS JWT (what `nsc` writes): header and claims in base64url, signed by the issuer's NKey.</summary>
    private static string Jwt(KeyPair issuer, KeyPair subject, string name, string nats)
    {
        var header = Base64Url("""{"typ":"JWT","alg":"ed25519-nkey"}"""u8.ToArray());
        var claims = $$"""{"jti":"{{Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}}","iat":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"iss":"{{issuer.GetPublicKey()}}","name":"{{name}}","sub":"{{subject.GetPublicKey()}}","nats":{{nats.Trim()}}}""";
        var signed = header + "." + Base64Url(Encoding.UTF8.GetBytes(claims));
        var signature = new byte[64];
        issuer.Sign(Encoding.ASCII.GetBytes(signed), signature);
        return signed + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A user credentials file in the layout `nsc generate creds` writes.</summary>
    private static string Creds(string jwt, string seed) => $"""
        -----BEGIN NATS USER JWT-----
        {jwt}
        ------END NATS USER JWT------

        ************************* IMPORTANT *************************
        NKEY Seed printed below can be used to sign and prove identity.
        NKEYs are sensitive and should be treated as secrets.

        -----BEGIN USER NKEY SEED-----
        {seed}
        ------END USER NKEY SEED------

        *************************************************************

        """;

    private sealed record Pem(string Cert, string Key);

    private async Task<Pem> CertificateAuthorityAsync(string name)
    {
        var pem = new Pem(Path.Combine(_dir, name + ".pem"), Path.Combine(_dir, name + ".key"));
        await OpenSslAsync("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", pem.Key, "-out", pem.Cert, "-days", "2", "-subj", "/CN=VideoEdge test " + name);
        return pem;
    }

    private async Task<Pem> IssueAsync(Pem ca, string name, string extensions)
    {
        var pem = new Pem(Path.Combine(_dir, name + ".pem"), Path.Combine(_dir, name + ".key"));
        var csr = Path.Combine(_dir, name + ".csr");
        var ext = Write(name + ".ext", extensions + "\n");
        await OpenSslAsync("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", pem.Key, "-out", csr, "-subj", "/CN=" + name);
        await OpenSslAsync("x509", "-req", "-in", csr, "-CA", ca.Cert, "-CAkey", ca.Key, "-CAcreateserial",
            "-out", pem.Cert, "-days", "2", "-extfile", ext);
        return pem;
    }

    private static async Task OpenSslAsync(params string[] args)
    {
        var info = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"openssl {string.Join(' ', args)}: {await output}");
    }
}
