using System.Text;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>Short, stable descriptions of protocol values for the trace (record printing is too long and unordered for it).</summary>
internal static class SimText
{
    public static string Command(IVolumeCommand command) => command switch
    {
        AttachVolume a => $"Attach(w{a.Writer.Value}{(a.Force ? " force" : "")})",
        ReportLegFailed f => $"LegFailed(w{f.Writer.Value} g{f.Group}l{f.Leg} {f.Reason})",
        LegUnfenceable u => $"LegUnfenceable(e{u.Epoch} g{u.Group}l{u.Leg})",
        ReportLegReturned r => $"LegReturned(w{r.Writer.Value} g{r.Group}l{r.Leg})",
        ReportRebuildProgress p => $"Progress(w{p.Writer.Value} g{p.Group}l{p.Leg} {p.DoneBytes})",
        ReportLegResynced s => $"LegResynced(w{s.Writer.Value} g{s.Group}l{s.Leg})",
        GetVolume => "GetVolume",
        DriveLost d => $"DriveLost({d.Drive.Value.ToString()[..8]})",
        AcknowledgeRelease r => $"AcknowledgeRelease({r.Segments.Length})",
        _ => command.GetType().Name,
    };

    public static string Reply(IVolumeReply reply) => reply switch
    {
        VolumeStateReply s => View(s.View),
        VolumeCommandRefused r => $"refused {r.Code}",
        _ => reply.GetType().Name,
    };

    public static string Event(IVolumeEvent e) => e switch
    {
        VolumeAttached a => $"Attached(w{a.Attachment.Writer.Value} e{a.Epoch})",
        VolumeDetached d => $"Detached(w{d.Writer.Value}{(d.Forced ? " forced" : "")} e{d.Epoch})",
        LegMarkedStale s => $"Stale(g{s.Group}l{s.Leg} e{s.Epoch})",
        LegRebuildStarted r => $"Rebuilding(g{r.Group}l{r.Leg} e{r.Epoch})",
        LegInSync s => $"InSync(g{s.Group}l{s.Leg} e{s.Epoch})",
        RebuildCheckpointed c => $"Checkpoint(g{c.Group}l{c.Leg} {c.DoneBytes})",
        VolumeCreated c => $"Created(e{c.Epoch})",
        LegReplaced r => $"Replaced(g{r.Group}l{r.Leg} -> {r.Replacement.Target}/{r.Replacement.Segment.Segment} e{r.Epoch})",
        VolumeSegmentsReleased r => $"Released({r.Segments.Length})",
        _ => e.GetType().Name,
    };

    /// <summary>Epoch, writer and one letter per leg: I(n sync), S(tale), R(ebuilding), groups separated by '|'.</summary>
    public static string View(VolumeView view)
    {
        var text = new StringBuilder();
        text.Append('e').Append(view.Epoch).Append(" w").Append(view.Writer.Value).Append(' ');
        for (int g = 0; g < view.Groups.Length; g++)
        {
            if (g > 0)
            {
                text.Append('|');
            }
            foreach (LegInfo leg in view.Groups[g].Legs)
            {
                text.Append(Letter(leg.State));
            }
        }
        return text.ToString();
    }

    public static char Letter(LegState state) => state switch
    {
        LegState.InSync => 'I',
        LegState.Stale => 'S',
        _ => 'R',
    };
}
