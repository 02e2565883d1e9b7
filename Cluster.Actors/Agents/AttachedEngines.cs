using System.Collections.Concurrent;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Agents;

/// <summary>
/// The engines a client agent has attached, readable from outside the actor (the node's stats file reads it from its
/// own thread). Only the agent adds and removes.
/// </summary>
public sealed class AttachedEngines
{
    private readonly ConcurrentDictionary<VolumeName, VolumeEngine> _engines = new();

    public IReadOnlyCollection<VolumeEngine> Snapshot => [.. _engines.Values];

    internal void Add(VolumeName name, VolumeEngine engine) => _engines[name] = engine;

    internal void Remove(VolumeName name) => _engines.TryRemove(name, out _);
}
