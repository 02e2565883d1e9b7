using System.Net;
using System.Net.Sockets;
using Shoal.DataPath.Target;
using Shoal.DataPath.Transport;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Tests;

/// <summary>
/// Protocol versions across one step (docs/adr/0005-rolling-upgrades.md): both ends pick the highest version both
/// speak, a node capped at the previous version (<c>--wire-protocol 1</c>) is served and serves at that version, and
/// a status a session's version does not know is never sent to it.
/// </summary>
public sealed class WireVersionTests
{
    private static readonly ClusterKey s_key = new("wire-version-test-cluster-key-01"u8.ToArray());

    /// <summary>Runs both sides of the handshake over a loopback connection; each side's result or failure.</summary>
    private static (object Client, object Target) Negotiate(ushort clientMin, ushort clientMax, ushort targetMax)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        clientSocket.Connect(listener.LocalEndPoint!);
        using var client = new FrameSocket(clientSocket, 0);
        using var target = new FrameSocket(listener.Accept(), 0);
        client.SetReceiveTimeout(5000);
        target.SetReceiveTimeout(5000);
        Task<object> targetSide = Task.Run(() => Catch(() =>
        {
            ushort v = Handshake.Server(target, s_key, targetMax);
            return v;
        }, target));
        object clientSide = Catch(() => Handshake.Client(client, s_key, clientMin, clientMax), null);
        Assert.True(targetSide.Wait(10_000), "the target side of the handshake did not finish");
        return (clientSide, targetSide.Result);
    }

    private static object Catch(Func<ushort> handshake, FrameSocket? closeOnFailure)
    {
        try
        {
            return handshake();
        }
        catch (WireException e)
        {
            closeOnFailure?.Close();
            return e.Status;
        }
    }

    [Fact]
    public void Both_ends_pick_the_highest_version_both_speak()
    {
        Assert.Equal(WireVersions.V2, Handshake.MaxVersion);
        Assert.Equal(WireVersions.V1, Handshake.MinVersion);
        Assert.Equal(((object)(ushort)2, (object)(ushort)2), Negotiate(1, 2, 2));
        // A client pinned to the previous version against a current target, and the other way round.
        Assert.Equal(((object)(ushort)1, (object)(ushort)1), Negotiate(1, 1, 2));
        Assert.Equal(((object)(ushort)1, (object)(ushort)1), Negotiate(1, 2, 1));
    }

    [Fact]
    public void No_common_version_is_refused_as_unsupported_on_both_ends()
    {
        (object client, object target) = Negotiate(2, 2, 1);
        Assert.Equal(WireStatus.Unsupported, client);
        Assert.Equal(WireStatus.Unsupported, target);
        (client, target) = Negotiate(3, 4, 2);
        Assert.Equal(WireStatus.Unsupported, client);
        Assert.Equal(WireStatus.Unsupported, target);
    }

    [Theory]
    [InlineData((ushort)1, (ushort)2, (ushort)1)]
    [InlineData((ushort)2, (ushort)1, (ushort)1)]
    [InlineData((ushort)2, (ushort)2, (ushort)2)]
    public void A_link_and_a_target_capped_by_their_options_meet_at_the_lower_version(ushort linkMax, ushort targetMax, ushort expected)
    {
        using var server = new TargetServer("t", [], s_key, new TargetOptions { MaxWireVersion = targetMax }, _ => { });
        server.Start(new IPEndPoint(IPAddress.Loopback, 0));
        var lines = new List<string>();
        using var link = new TargetLink("t", server.LocalEndPoint!.ToString(), s_key, 0, lines.Add, linkMax);
        Assert.True(link.Connect(), string.Join("\n", lines));
        Assert.Equal(expected, link.Version);
        Assert.Contains(lines, l => l.Contains($"wire protocol v{expected}", StringComparison.Ordinal));
    }

    [Fact]
    public void A_status_newer_than_the_sessions_version_is_sent_as_an_io_error()
    {
        foreach (WireStatus known in Enum.GetValues<WireStatus>())
        {
            Assert.Equal(known, WireVersions.ForSession(known, WireVersions.V2));
            Assert.Equal(known <= WireVersions.LastV1Status ? known : WireStatus.IoError, WireVersions.ForSession(known, WireVersions.V1));
        }
        Assert.Equal(WireStatus.Unsupported, WireVersions.ForSession(WireStatus.Unsupported, WireVersions.V1));
        // The checksum-at-rest status (planned as 10) or any later one: v2 sessions see it, v1 sessions an I/O error.
        var newer = (WireStatus)((ushort)WireVersions.LastV1Status + 1);
        Assert.Equal(newer, WireVersions.ForSession(newer, WireVersions.V2));
        Assert.Equal(WireStatus.IoError, WireVersions.ForSession(newer, WireVersions.V1));
        Assert.Equal(WireStatus.IoError, WireVersions.ForSession((WireStatus)ushort.MaxValue, WireVersions.V1));
    }
}
