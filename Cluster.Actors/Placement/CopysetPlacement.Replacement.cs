namespace Shoal.Actors.Placement;

public sealed partial class CopysetPlacement
{
    private void ConsiderTeam(ref ReplacementChoice choice, CopysetTeam team)
    {
        for (int m = 0; m < team.Count; m++)
        {
            ConsiderMember(ref choice, team.Members[m]);
        }
    }

    private void ConsiderMember(ref ReplacementChoice choice, TeamMember member)
    {
        if (!MemberApart(member, choice.Survivors, choice.Spread, out bool shared))
        {
            return;
        }
        Span<int> noneYet = stackalloc int[PlacementLimits.MaxLegs];
        foreach (int slot in member.Drives)
        {
            ref DriveSlot drive = ref _view.Drive(slot);
            if (slot == choice.Failed || drive.FreeSegments < choice.Segments || choice.Survivors.Contains(slot) || !PeersFit(slot, choice.Survivors, noneYet))
            {
                continue;
            }
            long score = drive.FreeFraction + (shared ? 0 : PlacementView.FractionScale + 1);
            if (choice.RankByNewPeers)
            {
                int newPeers = 0;
                foreach (int survivor in choice.Survivors)
                {
                    newPeers += IsPeer(slot, survivor) ? 0 : 1;
                }
                score += (PlacementLimits.MaxLegs - newPeers) * (PlacementView.FractionScale + 1) * 2;
            }
            if (score > choice.BestScore)
            {
                choice.Best = slot;
                choice.BestScore = score;
            }
        }
    }

    /// <summary>The replacement search in progress: what the new leg must keep apart from, and the best drive so far.</summary>
    private ref struct ReplacementChoice(ReadOnlySpan<int> survivors, int failed, FailureDomainLevel spread, int segments)
    {
        public readonly ReadOnlySpan<int> Survivors = survivors;
        public readonly int Failed = failed;
        public readonly FailureDomainLevel Spread = spread;
        public readonly int Segments = segments;
        public bool RankByNewPeers;
        public int Best = -1;
        public long BestScore = -1;
    }
}
