namespace Shoal.Actors.Protocol;

// Marker interfaces: routing (which shard region) and serialization (what the Shoal serializer binds).

/// <summary>Every control-plane message and event; bound to <c>ShoalSerializer</c>.</summary>
public interface IShoalMessage;

/// <summary>A message for one drive entity, routed by <see cref="Drive"/>.</summary>
public interface IDriveCommand : IShoalMessage
{
    DriveId Drive { get; }
}

/// <summary>A message for one volume entity, routed by <see cref="Volume"/>.</summary>
public interface IVolumeCommand : IShoalMessage
{
    VolumeName Volume { get; }
}

/// <summary>A persisted fact about a drive.</summary>
public interface IDriveEvent : IShoalMessage;

/// <summary>A persisted fact about a volume.</summary>
public interface IVolumeEvent : IShoalMessage;

/// <summary>An answer to a drive command.</summary>
public interface IDriveReply : IShoalMessage;

/// <summary>An answer to a volume command.</summary>
public interface IVolumeReply : IShoalMessage;
