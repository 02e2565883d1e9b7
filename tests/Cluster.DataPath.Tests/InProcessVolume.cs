using System.Collections.Immutable;
using System.Net;
using Shoal.DataPath.Control;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Nbd;
using Shoal.DataPath.Target;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Tests;

/// <summary>Two in-process targets on loopback, a mirrored volume engine over them and an NBD server: the data path without processes.</summary>
internal sealed class InProcessVolume : IDisposable
{
    public const long SegmentBytes = 4 << 20;

    private readonly TempDir _dir = new();
    private readonly List<IDisposable> _owned = [];

    public InProcessVolume(bool readOnly = false, long sizeBytes = 8 << 20)
    {
        Key = new ClusterKey("in-process-test-cluster-key-0123"u8.ToArray());
        var targets = ImmutableDictionary.CreateBuilder<string, string>();
        for (int t = 0; t < 2; t++)
        {
            DriveStore drive = DriveStore.Open(_dir.File($"t{t}.img"), new DriveOpenOptions
            {
                ClusterId = Key.ClusterId,
                CreateBytes = 64 << 20,
                SegmentBytes = SegmentBytes,
                RegionBytes = 1 << 20,
            }, _ => { });
            var server = new TargetServer($"t{t}", [drive], Key, new TargetOptions(), _ => { });
            server.Start(new IPEndPoint(IPAddress.Loopback, 0));
            Targets.Add(server);
            _owned.Add(server);
            _owned.Add(drive);
            targets[$"t{t}"] = server.LocalEndPoint!.ToString();
        }
        int groups = (int)(sizeBytes / SegmentBytes);
        Layout = new VolumeLayout
        {
            Name = "vol",
            VolumeId = 9,
            SizeBytes = sizeBytes,
            Kind = LayoutKind.Mirror,
            SegmentBytes = SegmentBytes,
            Epoch = 1,
            WriterId = 77,
            Targets = targets.ToImmutable(),
            Groups = [.. Enumerable.Range(0, groups).Select(g => new SegmentGroup([new LegSegment("t0", 0, (uint)g, LegState.InSync), new LegSegment("t1", 0, (uint)g, LegState.InSync)]))],
        };
        Engine = new VolumeEngine(Layout, Key, new StaticVolumeControl(null, _ => { }), new EngineOptions { MaxInflight = 16 }, _ => { });
        Engine.Start();
        Nbd = new NbdServer([new NbdExport("vol", Engine, readOnly)], 0, _ => { });
        Nbd.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
    }

    public ClusterKey Key { get; }

    public List<TargetServer> Targets { get; } = [];

    public VolumeLayout Layout { get; }

    public VolumeEngine Engine { get; }

    public NbdServer Nbd { get; }

    public IPEndPoint NbdEndPoint => Nbd.TcpEndPoint!;

    public void Dispose()
    {
        Nbd.Dispose();
        Engine.Dispose();
        foreach (IDisposable d in _owned)
        {
            d.Dispose();
        }
        _dir.Dispose();
    }
}
