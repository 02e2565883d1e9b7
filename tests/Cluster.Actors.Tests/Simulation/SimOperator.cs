using Shoal.Actors.Protocol;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The drive entities' part: once a drive is lost it tells the volume entity (<see cref="DriveLost"/>) until no leg
/// sits on that drive any more, then acknowledges the release of the replaced segments (the target wipes them), over
/// the same lossy network as everyone else. It knows which legs sit on a drive from the journal, as a drive entity
/// knows its allocations.
/// </summary>
internal sealed class SimOperator : SimProcess
{
    public const long PollMs = 200;

    private readonly VolumeName _volume;
    private readonly List<DriveId> _lost = [];

    public SimOperator(SimWorld world, int id, string name, VolumeName volume)
        : base(world, id, name)
    {
        _volume = volume;
    }

    public void Start() => After(PollMs, Poll);

    public void DriveLost(DriveId drive) => _lost.Add(drive);

    public override void Receive(int from, object message)
    {
        // Answers are not needed: the journal shows whether the replacement happened, and the poll repeats until it has.
    }

    private void Poll()
    {
        After(PollMs, Poll);
        if (_lost.Count == 0)
        {
            return;
        }
        var journal = World.Checker.Journal;
        foreach (DriveId drive in _lost)
        {
            if (journal.LegsOn(drive).Any())
            {
                Send(World.Entity.Id, new EntityRequest(World.NextRequestId(), new DriveLost(_volume, drive)));
            }
        }
        SegmentRef[] released = [.. journal.Releasing.Where(s => _lost.Contains(s.Drive))];
        if (released.Length > 0)
        {
            Send(World.Entity.Id, new EntityRequest(World.NextRequestId(), new AcknowledgeRelease(_volume, [.. released])));
        }
    }
}
