using System.Runtime.CompilerServices;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using VideoEdge.Configuration;

namespace VideoEdge.Bus;

/// <summary>
/// One NATS connection per process (per options instance, so in-process test hubs each have their
/// own), shared by its bus cameras and publishers and closed when the last lets go. The first connect
/// is retried here for as long as it takes, so a hub whose bus is down at start still serves its
/// local cameras; once connected, the NATS client reconnects (and resubscribes) by itself.
/// </summary>
public sealed partial class BusConnection
{
    private static readonly Lock s_lock = new();
    private static readonly ConditionalWeakTable<EdgeOptions, BusConnection> s_shared = [];

    private readonly EdgeOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<NatsConnection> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private NatsConnection? _connection;
    private int _users;
    private volatile bool _up;
    private volatile string _downReason = "connecting to the bus";
    private string? _lastServerError;

    private BusConnection(EdgeOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger("VideoEdge.Bus");
    }

    /// <summary>The connection for these options, started on first use; call <see cref="Release"/> when done.</summary>
    public static BusConnection Acquire(EdgeOptions options, ILoggerFactory loggerFactory)
    {
        lock (s_lock)
        {
            if (!s_shared.TryGetValue(options, out var bus))
            {
                bus = new BusConnection(options, loggerFactory);
                s_shared.Add(options, bus);
                _ = bus.ConnectLoopAsync();
            }
            bus._users++;
            return bus;
        }
    }

    public string Servers => _options.BusUrls ?? "";
    public string Prefix => _options.BusPrefix;

    /// <summary>Connected now (false while the client reconnects).</summary>
    public bool IsUp => _up;

    /// <summary>Why the bus cannot be used now, for the no-signal picture and the log.</summary>
    public string DownReason => _downReason;

    /// <summary>The largest message the server accepts (its INFO's max_payload), 0 before the first connect.</summary>
    public long MaxPayload => _connection?.ServerInfo?.MaxPayload ?? 0;

    /// <summary>Raised when the bus goes up or down.</summary>
    public event Action? Changed;

    /// <summary>The connection once the first connect succeeded; subscriptions made on it survive reconnects.</summary>
    public Task<NatsConnection> ConnectedAsync(CancellationToken cancellation) => _connected.Task.WaitAsync(cancellation);

    public void Release()
    {
        lock (s_lock)
        {
            if (--_users > 0)
            {
                return;
            }
            s_shared.Remove(_options);
        }
        _stop.Cancel();
        if (_connection is { } connection)
        {
            // Shutdown only: the server is told goodbye so it forgets our subscriptions at once.
            _ = connection.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(2));
        }
    }

    private NatsOpts Opts() => new()
    {
        Url = _options.BusUrls!,
        Name = "video-edge",
        AuthOpts = new NatsAuthOpts
        {
            Token = _options.BusToken,
            Username = _options.BusUser,
            Password = _options.BusPassword,
            CredsFile = _options.BusCredsFile,
            NKey = _options.BusNKey,
            Seed = _options.BusNKeySeed,
        },
        TlsOpts = new NatsTlsOpts
        {
            CaFile = _options.BusTlsCa,
            CertFile = _options.BusTlsCert,
            KeyFile = _options.BusTlsKey,
            Mode = _options.BusTlsCa is not null || _options.BusTlsCert is not null ? TlsMode.Require : TlsMode.Auto,
        },
        // Live frames: reconnect forever, quickly, and never let a subscription's backlog grow (the
        // capture thread takes only the latest frame anyway).
        MaxReconnectRetry = -1,
        ReconnectWaitMin = TimeSpan.FromMilliseconds(500),
        ReconnectWaitMax = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        SubPendingChannelCapacity = 8,
        SubPendingChannelFullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest,
        SuppressSlowConsumerWarnings = true,
    };

    private async Task ConnectLoopAsync()
    {
        var failures = 0;
        while (!_stop.IsCancellationRequested)
        {
            var connection = new NatsConnection(Opts());
            connection.ServerError += (_, e) =>
            {
                _lastServerError = e.Error;
                return default;
            };
            try
            {
                await connection.ConnectAsync();
            }
            catch (Exception ex)
            {
                await connection.DisposeAsync();
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
                var reason = Explain(ex);
                if (reason != _downReason || failures == 0)
                {
                    LogConnectFailed(_logger, Servers, reason);
                }
                SetDown(reason);
                failures++;
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, 0.5 * failures)), _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            connection.ConnectionDisconnected += (_, e) =>
            {
                SetDown("bus disconnected: " + (_lastServerError is { } error ? ExplainServerError(error) : e.Message));
                LogDisconnected(_logger, Servers, _downReason);
                return default;
            };
            connection.ConnectionOpened += (_, _) =>
            {
                _lastServerError = null;
                // Also raised (late) for the first connect, which is logged below already.
                if (!_up)
                {
                    SetUp();
                    LogConnected(_logger, Servers, MaxPayload);
                }
                return default;
            };
            connection.ReconnectFailed += (_, e) =>
            {
                SetDown("bus unreachable: " + (_lastServerError is { } error ? ExplainServerError(error) : e.Message));
                return default;
            };
            _connection = connection;
            SetUp();
            LogConnected(_logger, Servers, MaxPayload);
            _connected.TrySetResult(connection);
            if (_stop.IsCancellationRequested)
            {
                await connection.DisposeAsync();
            }
            return;
        }
    }

    private void SetUp()
    {
        _up = true;
        Changed?.Invoke();
    }

    private void SetDown(string reason)
    {
        _downReason = reason;
        _up = false;
        Changed?.Invoke();
    }

    /// <summary>The reason a user can act on: the server's own words (e.g. Authorization Violation) with a hint.</summary>
    private string Explain(Exception ex)
    {
        // First: a failed TLS handshake says "authentication" too, but no login was tried yet. A server
        // that refuses our client certificate does so after our side of a TLS 1.3 handshake is done:
        // OpenSSL's alert ("SSL routines::…bad certificate") then ends the first read.
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException || e.Message.Contains("TLS", StringComparison.Ordinal) || e.Message.Contains("SSL routines", StringComparison.Ordinal))
            {
                return $"TLS with the NATS server failed ({Innermost(ex).Message}): check that --bus-tls-ca holds the CA that signed the server's certificate, "
                    + "that the certificate names the host in --bus, and, if the server verifies clients, --bus-tls-cert and --bus-tls-key";
            }
        }
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e.Message.Contains("authorization", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("authentication", StringComparison.OrdinalIgnoreCase))
            {
                return ExplainServerError(e.Message);
            }
        }
        if (_lastServerError is { } error)
        {
            return ExplainServerError(error);
        }
        return $"cannot reach the bus ({Innermost(ex).Message})";
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }
        return ex;
    }

    private static string ExplainServerError(string error) =>
        error.Contains("authorization", StringComparison.OrdinalIgnoreCase) || error.Contains("authentication", StringComparison.OrdinalIgnoreCase)
            ? $"the NATS server refused our credentials ({error.Trim().Trim('\'')}): check --bus-token-file, --bus-user/--bus-password-file, --bus-creds-file or --bus-nkey-file"
            : $"the NATS server said: {error.Trim()}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bus {Servers}: {Reason}. Retrying.")]
    private static partial void LogConnectFailed(ILogger logger, string servers, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bus {Servers}: connected (the server's max_payload is {MaxPayload} bytes)")]
    private static partial void LogConnected(ILogger logger, string servers, long maxPayload);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bus {Servers}: {Reason}; the client reconnects by itself")]
    private static partial void LogDisconnected(ILogger logger, string servers, string reason);
}
