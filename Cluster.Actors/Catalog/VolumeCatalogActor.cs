using System.Collections.Immutable;
using Akka.Persistence;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Catalog;

/// <summary>
/// The list of volume names, event-sourced, one entity for the cluster. Sharding can only reach entities by name;
/// the operator's "volume list" needs the names. Creators catalog a name before they create its volume, so the
/// catalog is a superset of the existing volumes; listing asks each entity and uncatalogs what answers "deleted".
/// </summary>
public sealed class VolumeCatalogActor : ReceivePersistentActor
{
    public const string EntityId = "volumes";

    /// <summary>Most names the catalog holds; a create beyond it is refused.</summary>
    public const int MaxVolumes = 1_000_000;

    /// <summary>Events between snapshots, so recovery replays a bounded tail.</summary>
    private const int SnapshotEvery = 1000;

    private readonly SortedSet<string> _names = new(StringComparer.Ordinal);

    public VolumeCatalogActor()
    {
        Recover<VolumeCataloged>(e => _names.Add(e.Volume.Value));
        Recover<VolumeUncataloged>(e => _names.Remove(e.Volume.Value));
        Recover<SnapshotOffer>(o =>
        {
            _names.Clear();
            _names.UnionWith(((CatalogSnapshot)o.Snapshot).Volumes.Select(v => v.Value));
        });
        Command<CatalogVolume>(c =>
        {
            if (_names.Contains(c.Volume.Value))
            {
                Sender.Tell(Reply(), Self);
                return;
            }
            if (_names.Count >= MaxVolumes)
            {
                Sender.Tell(new CatalogRefused(c.Volume, $"the catalog holds its maximum of {MaxVolumes} volumes"), Self);
                return;
            }
            Persist(new VolumeCataloged(c.Volume), e =>
            {
                _names.Add(e.Volume.Value);
                Sender.Tell(Reply(), Self);
                MaybeSnapshot();
            });
        });
        Command<UncatalogVolume>(c =>
        {
            if (!_names.Contains(c.Volume.Value))
            {
                Sender.Tell(Reply(), Self);
                return;
            }
            Persist(new VolumeUncataloged(c.Volume), e =>
            {
                _names.Remove(e.Volume.Value);
                Sender.Tell(Reply(), Self);
                MaybeSnapshot();
            });
        });
        Command<GetCatalog>(_ => Sender.Tell(Reply(), Self));
        Command<SaveSnapshotSuccess>(s => DeleteMessages(s.Metadata.SequenceNr));
        Command<SaveSnapshotFailure>(_ => { });
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(_ => { });
    }

    /// <summary>
    /// Not under the "volume-" or "drive-" prefixes the entities use: a volume named "catalog" must not share a journal
    /// stream with the catalog.
    /// </summary>
    public const string JournalId = "catalog-volumes";

    public override string PersistenceId => JournalId;

    private CatalogReply Reply() => new([.. _names.Select(n => new VolumeName(n))]);

    private void MaybeSnapshot()
    {
        if (LastSequenceNr % SnapshotEvery == 0)
        {
            SaveSnapshot(new CatalogSnapshot(Reply().Volumes));
        }
    }
}
