using System.Net;
using System.Net.Sockets;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>A real TCP connection on loopback: both ends, for tests of what the kernel does with a socket.</summary>
public sealed class LoopbackPair : IDisposable
{
    private LoopbackPair(Socket client, Socket server)
    {
        Client = client;
        Server = server;
    }

    /// <summary>The connecting end (a viewer).</summary>
    public Socket Client { get; }

    /// <summary>The accepted end (the server's side of a viewer's connection).</summary>
    public Socket Server { get; }

    public static async Task<LoopbackPair> ConnectAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        return new LoopbackPair(client, await listener.AcceptAsync());
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
