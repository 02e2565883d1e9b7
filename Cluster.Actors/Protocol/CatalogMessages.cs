using System.Collections.Immutable;

namespace Shoal.Actors.Protocol;

// The volume catalog: the one list of volume names the operator's tools enumerate. Commands are never persisted.

/// <summary>A message for the catalog entity (there is one).</summary>
public interface ICatalogCommand : IShoalMessage;

/// <summary>Put a name in the catalog before its volume is created, so a created volume is always listed.</summary>
public sealed record CatalogVolume(VolumeName Volume) : ICatalogCommand;

/// <summary>Take a name out once its volume entity says it is deleted (or was never created).</summary>
public sealed record UncatalogVolume(VolumeName Volume) : ICatalogCommand;

public sealed record GetCatalog : ICatalogCommand;

/// <summary>The names in the catalog, in order. Some may name volumes whose creation never committed.</summary>
public sealed record CatalogReply(ImmutableArray<VolumeName> Volumes) : IShoalMessage;

/// <summary>The catalog is full (<c>VolumeCatalogActor.MaxVolumes</c>).</summary>
public sealed record CatalogRefused(VolumeName Volume, string Reason) : IShoalMessage;

public sealed record VolumeCataloged(VolumeName Volume) : IShoalMessage;

public sealed record VolumeUncataloged(VolumeName Volume) : IShoalMessage;

/// <summary>The catalog's state, saved every thousand events.</summary>
public sealed record CatalogSnapshot(ImmutableArray<VolumeName> Volumes) : IShoalMessage;
