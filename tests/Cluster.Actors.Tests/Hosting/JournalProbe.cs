using Akka.Actor;
using Akka.Persistence;

namespace Shoal.Actors.Tests.Hosting;

/// <summary>
/// A persistent actor that proves the journal wiring and nothing else: it persists strings and replays them.
/// Commands that arrive during recovery wait until it has finished (Akka stashes them).
/// </summary>
public sealed class JournalProbe : ReceivePersistentActor
{
    private readonly List<string> _events = [];

    public JournalProbe(string persistenceId)
    {
        PersistenceId = persistenceId;
        Recover<string>(_events.Add);
        Command<AppendEvent>(append => Persist(append.Value, value =>
        {
            _events.Add(value);
            Sender.Tell(new EventAppended(LastSequenceNr));
        }));
        Command<GetEvents>(_ => Sender.Tell(new EventLog([.. _events])));
    }

    public override string PersistenceId { get; }

    public static Props Props(string persistenceId) => Akka.Actor.Props.Create(() => new JournalProbe(persistenceId));
}
