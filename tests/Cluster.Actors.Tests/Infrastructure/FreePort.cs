using System.Net;
using System.Net.Sockets;

namespace Shoal.Actors.Tests.Infrastructure;

/// <summary>Loopback TCP ports nobody listens on, for nodes that must be their own seed (port 0 cannot be).</summary>
public static class FreePort
{
    /// <summary>A port the kernel just handed out and took back; another process could take it first, which is rare enough.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
