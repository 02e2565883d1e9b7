namespace Shoal.Actors.Protocol;

// The control plane's identifiers: one family, never bare strings in messages.

/// <summary>A cluster node, by its operator-given name (also its Akka role label).</summary>
public readonly record struct NodeId(string Value)
{
    public override string ToString() => Value;
}

/// <summary>A drive, by the id written in its superblock when it was formatted.</summary>
public readonly record struct DriveId(Guid Value)
{
    public override string ToString() => Value.ToString("N");

    public static DriveId Parse(string text) => new(Guid.ParseExact(text, "N"));
}

/// <summary>A volume, by its name (the sharded entity id). Incarnations of one name are told apart by <see cref="VolumeUid"/>.</summary>
public readonly record struct VolumeName(string Value)
{
    public override string ToString() => Value;
}

/// <summary>One incarnation of a volume: the id the targets record in segment metadata (never 0).</summary>
public readonly record struct VolumeUid(ulong Value)
{
    public override string ToString() => Value.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A client engine that writes a volume, as stamped on every data-path request (never 0).</summary>
public readonly record struct WriterId(ulong Value)
{
    public override string ToString() => Value.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>One segment of one drive.</summary>
public readonly record struct SegmentRef(DriveId Drive, uint Segment)
{
    public override string ToString() => $"{Drive}/{Segment}";
}

/// <summary>Failure-domain labels of a drive: the node it is in, its rack and its zone.</summary>
public readonly record struct FailureDomain(string Node, string Rack, string Zone)
{
    public override string ToString() => $"{Zone}/{Rack}/{Node}";
}
