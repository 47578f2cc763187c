using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;
using VideoEdge.Api;
using VideoEdge.Cameras;
using VideoEdge.Configuration;
using VideoEdge.Remote;
using VideoEdge.Security;
using VideoEdge.Sources;
using VideoEdge.Viewers;

namespace VideoEdge.Hosting;

/// <summary>Wires the modules together: options → cameras → Kestrel → endpoints. Nothing else lives here.</summary>
public static partial class EdgeApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args is [Push.PushCommand.Verb, ..])
        {
            return await Push.PushCommand.RunAsync(args[1..]);
        }
        if (args.Any(a => a is "--help" or "-h"))
        {
            Console.Out.Write(OptionsParser.Help());
            return 0;
        }
        var (options, error) = OptionsParser.Parse(args, Environment.GetEnvironmentVariable);
        if (options is { ListDevices: true })
        {
            return Sources.V4l2.DeviceLister.Run(options, Console.Out);
        }
        X509Certificate2? certificate = null;
        if (options is null || (error = ValidateSources(options)) is not null
            || (error = Tls.LoadCertificate(options, out certificate)) is not null)
        {
            Console.Error.WriteLine("video-edge: " + error);
            return 2;
        }
        if (options.PrintConfig)
        {
            Console.Out.Write(EffectiveConfig.Render(options, OptionsParser.Specs));
            return 0;
        }

        ConnectionCap.RaiseFileLimit();
        await using var app = Build(options, certificate, null);
        try
        {
            await app.StartAsync();
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"video-edge: --listen {options.Listen}: cannot listen there ({ex.Message.Split('\n')[0].Trim()}); choose another port or stop what uses it");
            return 2;
        }
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("VideoEdge");
        if (app.Services.GetService<ConnectionCap>() is { } cap && options.MaxClients > cap.Limit)
        {
            ConnectionCap.LogMaxClientsOverCap(logger, options.MaxClients, cap.Limit, cap.SoftLimit, cap.Reserve);
        }
        foreach (var url in ServerUrls(app))
        {
            // Kestrel reports a Unix socket as http://unix:/path, which no browser can open.
            if (options.Listen.UnixSocketPath is { } socket)
            {
                LogServingUnixSocket(logger, socket);
            }
            else
            {
                LogServing(logger, url);
            }
        }
        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>The app for these options, not yet started (tests start it on port 0); a bad --tls-cert throws.</summary>
    public static WebApplication Build(EdgeOptions options, Action<WebApplicationBuilder>? configure = null) =>
        Tls.LoadCertificate(options, out var certificate) is { } problem
            ? throw new InvalidOperationException(problem)
            : Build(options, certificate, configure);

    private static WebApplication Build(EdgeOptions options, X509Certificate2? certificate, Action<WebApplicationBuilder>? configure)
    {
        // The content root is the binary's folder, not the working directory (systemd starts us in /),
        // and appsettings reloading is off: its file watcher walks and watches every folder below the root.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        // A failed start is reported by RunAsync in one line; the host's own report is a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.AddEdgeSystemd();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1.5));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, EdgeJsonContext.Default));
        // Larger receive blocks than Kestrel's 4 KiB: a pushed frame arrives in a few reads instead of ~30.
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, ReceiveBlockPoolFactory>();
        var connectionCap = ConnectionCap.ForThisProcess(options.CameraConfigs.Count);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            void Cap(Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions listen)
            {
                if (connectionCap is not null)
                {
                    listen.Use(connectionCap.Middleware(() => kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("VideoEdge.Connections")));
                }
            }

            kestrel.AddServerHeader = false;
            var limits = kestrel.Limits;
            limits.MaxRequestLineSize = 4 * 1024;
            limits.MaxRequestHeadersTotalSize = 16 * 1024;
            limits.MaxRequestHeaderCount = 50;
            limits.MaxRequestBodySize = 16 * 1024;
            // A real client sends its headers in one packet and reconnects cheaply; a slowloris or
            // idle socket is dropped soon instead of holding a connection for the default 30/130 s.
            limits.RequestHeadersTimeout = TimeSpan.FromSeconds(5);
            limits.KeepAliveTimeout = TimeSpan.FromSeconds(15);
            var listen = options.Listen;
            if (listen.UnixSocketPath is not null)
            {
                kestrel.ListenUnixSocket(listen.UnixSocketPath, Cap);
            }
            else
            {
                kestrel.Listen(listen.Address!, listen.Port, l =>
                {
                    Cap(l);
                    Tls.Configure(l, certificate);
                });
            }
        });

        builder.Services.AddSingleton(options);
        if (connectionCap is not null)
        {
            builder.Services.AddSingleton(connectionCap);
        }
        builder.Services.AddSingleton(sp => CreateCameras(options, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddHostedService<CameraService>();
        builder.Services.AddAccessControl();
        builder.Services.AddSingleton<ViewerAdmission>();
        if (options.PublishToBus)
        {
            builder.Services.AddHostedService<Bus.BusService>();
        }
        if (options.Listen.UnixSocketPath is { } socketPath)
        {
            builder.Services.AddHostedService(_ => new UnixSocketFile(socketPath));
        }
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseTrustedProxies();
        app.UseClientErrors();
        app.UseAccessControl();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.MapCameraEndpoints();
        app.MapCamerasEndpoint();
        app.MapOperationsEndpoints();
        app.MapIngestEndpoint();
        return app;
    }

    /// <summary>The addresses Kestrel actually bound (port 0 resolved), as URLs a browser can open.</summary>
    public static IReadOnlyList<string> ServerUrls(WebApplication app) =>
        [.. app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];

    private static CameraSet CreateCameras(EdgeOptions options, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger("VideoEdge");
        var cameras = new List<Camera>();
        foreach (var camera in options.CameraConfigs)
        {
            var resolved = SourceFactory.ResolveAuto(camera.Source);
            if (camera.Source.Kind == SourceKind.Auto)
            {
                if (resolved.Kind == SourceKind.Test)
                {
                    LogNoCamera(logger);
                }
                else
                {
                    LogCameraFound(logger, resolved.Target);
                }
            }
            cameras.Add(new Camera(camera.Name, resolved, camera.Settings, loggerFactory));
        }
        return new CameraSet(cameras);
    }

    /// <summary>Each source was parsed with the settings; what remains is its file, and what it needs from the other settings.</summary>
    private static string? ValidateSources(EdgeOptions options)
    {
        foreach (var (name, source, _, _) in options.CameraConfigs)
        {
            if (SourceFactory.Unavailable(source) is { } problem)
            {
                return $"{(name == "main" && options.SourceGiven ? "--source" : $"camera '{name}': source")} {SourceText.Redact(source.Text)}: expected {problem}";
            }
            if (source.Kind == SourceKind.Remote && options.IngestToken is null)
            {
                return $"camera '{name}' is fed by a producer: set --ingest-token, the secret producers must present";
            }
            if (source.Kind == SourceKind.Bus && options.BusUrls is null)
            {
                return $"camera '{name}' is fed over the bus: set --bus nats://HOST:PORT";
            }
        }
        return options.PublishToBus && options.BusUrls is null ? "--publish-to-bus needs --bus nats://HOST:PORT" : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving on {Url} (open {Url}/ in a browser; stream: {Url}/stream.mjpg, snapshot: {Url}/snapshot.jpg)")]
    private static partial void LogServing(ILogger logger, string url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving on unix:{Path}, a Unix socket for a reverse proxy on this machine (nginx: proxy_pass http://unix:{Path}:;). Try it: curl --unix-socket {Path} -o snap.jpg http://localhost/snapshot.jpg")]
    private static partial void LogServingUnixSocket(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "No camera at /dev/video0: serving the built-in test pattern (choose a source with --source)")]
    private static partial void LogNoCamera(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Found a camera at {Device}")]
    private static partial void LogCameraFound(ILogger logger, string device);
}
