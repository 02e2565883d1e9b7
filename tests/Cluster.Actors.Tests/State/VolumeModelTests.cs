using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using Shoal.Actors.Protocol;
using Shoal.Actors.Volumes;
using Shoal.DataPath.Volume;
using Xunit.Abstractions;
using static Shoal.Actors.Tests.State.Fixtures;

namespace Shoal.Actors.Tests.State;

/// <summary>
/// Model-based test of the volume entity: random command sequences against <see cref="VolumeState"/> and against
/// a deliberately naive model of the same rules, written separately, plus the invariants that matter for data
/// safety (every group keeps an in-sync leg; the epoch only rises, and rises with every fencing change; at most
/// one writer and never a writer beside readers; events replayed from empty rebuild the same state).
/// </summary>
public sealed class VolumeModelTests(ITestOutputHelper output)
{
    private const int Groups = 2;
    private const int Legs = 3;

    /// <summary>One generated step: what, which writer (1..3), which group and leg, a flag, a fraction.</summary>
    public sealed record Op(int Kind, int Writer, int Group, int Leg, bool Flag, int Percent)
    {
        public IVolumeCommand ToCommand() => Kind switch
        {
            0 => new AttachVolume(Vol, new NodeId("c" + Writer), new WriterId((ulong)Writer), Flag ? AttachMode.ReadOnly : AttachMode.ReadWrite, Force: Percent < 30),
            1 => new DetachVolume(Vol, new WriterId((ulong)Writer)),
            2 or 3 => new ReportLegFailed(Vol, new WriterId((ulong)Writer), Group, Leg, "fault"),
            4 => new ReportLegReturned(Vol, new WriterId((ulong)Writer), Group, Leg),
            5 => new ReportRebuildProgress(Vol, new WriterId((ulong)Writer), Group, Leg, SegmentBytes * Percent / 100),
            6 => new ReportLegResynced(Vol, new WriterId((ulong)Writer), Group, Leg),
            _ => new LegUnfenceable(Vol, 0, Group, Leg, "fence timed out"),
        };
    }

    private static readonly Gen<Op> s_op =
        from kind in Gen.Choose(0, 7)
        from writer in Gen.Choose(1, 3)
        from grp in Gen.Choose(0, Groups - 1)
        from leg in Gen.Choose(0, Legs - 1)
        from flag in Gen.Elements(true, false, false)
        from percent in Gen.Choose(0, 100)
        select new Op(kind, writer, grp, leg, flag, percent);

    /// <summary>The naive model: plain mutable fields, rules restated from the issue.</summary>
    private sealed class Model
    {
        public ulong Epoch = 1;
        public ulong Writer;
        public readonly SortedSet<ulong> Readers = [];
        public readonly LegState[,] Legs = new LegState[Groups, VolumeModelTests.Legs];
        public readonly long[,] Done = new long[Groups, VolumeModelTests.Legs];

        private int InSync(int g) => Enumerable.Range(0, VolumeModelTests.Legs).Count(l => Legs[g, l] == LegState.InSync);

        /// <summary>Applies the op; returns whether it was refused.</summary>
        public bool Step(Op op)
        {
            ulong w = (ulong)op.Writer;
            bool force = op.Percent < 30;
            switch (op.Kind)
            {
                case 0 when !op.Flag:
                    if (((Writer != 0 && Writer != w) || Readers.Any(r => r != w)) && !force)
                    {
                        return true;
                    }
                    Readers.Clear();
                    Writer = w;
                    Epoch++;
                    return false;
                case 0:
                    if (Writer != 0 && Writer != w && !force)
                    {
                        return true;
                    }
                    if (Writer != 0)
                    {
                        Writer = 0;
                        Epoch++;
                    }
                    Readers.Add(w);
                    return false;
                case 1:
                    if (Writer == w)
                    {
                        Writer = 0;
                        Epoch++;
                    }
                    Readers.Remove(w);
                    return false;
            }
            if (op.Kind != 7 && (Writer == 0 || Writer != w))
            {
                return true;
            }
            (int g, int l) = (op.Group, op.Leg);
            switch (op.Kind)
            {
                case 2 or 3 or 7:
                    if (Legs[g, l] == LegState.Stale)
                    {
                        return false;
                    }
                    if (Legs[g, l] == LegState.InSync && InSync(g) == 1)
                    {
                        return true;
                    }
                    Legs[g, l] = LegState.Stale;
                    Epoch++;
                    return false;
                case 4:
                    if (Legs[g, l] == LegState.Stale)
                    {
                        Legs[g, l] = LegState.Rebuilding;
                        Done[g, l] = 0;
                        Epoch++;
                    }
                    return false;
                case 5:
                    if (Legs[g, l] != LegState.Rebuilding)
                    {
                        return true;
                    }
                    Done[g, l] = Math.Max(Done[g, l], SegmentBytes * op.Percent / 100);
                    return false;
                default:
                    if (Legs[g, l] == LegState.Stale)
                    {
                        return true;
                    }
                    if (Legs[g, l] == LegState.Rebuilding)
                    {
                        Legs[g, l] = LegState.InSync;
                        Epoch++;
                    }
                    return false;
            }
        }
    }

    private static bool Agrees(Model model, VolumeState state, out string why)
    {
        why = "";
        if (model.Epoch != state.Epoch)
        {
            why = $"epoch model {model.Epoch} state {state.Epoch}";
            return false;
        }
        if (model.Writer != state.Writer.Value)
        {
            why = $"writer model {model.Writer} state {state.Writer}";
            return false;
        }
        ulong[] readers = [.. state.Attachments.Where(a => a.Mode == AttachMode.ReadOnly).Select(a => a.Writer.Value).Order()];
        if (!readers.SequenceEqual(model.Readers))
        {
            why = $"readers model [{string.Join(",", model.Readers)}] state [{string.Join(",", readers)}]";
            return false;
        }
        for (int g = 0; g < Groups; g++)
        {
            for (int l = 0; l < Legs; l++)
            {
                LegInfo leg = state.Groups[g].Legs[l];
                if (leg.State != model.Legs[g, l] || (leg.State == LegState.Rebuilding && leg.Rebuild!.DoneBytes != model.Done[g, l]))
                {
                    why = $"group {g} leg {l}: model {model.Legs[g, l]}/{model.Done[g, l]} state {leg.State}/{leg.Rebuild?.DoneBytes}";
                    return false;
                }
            }
        }
        return true;
    }

    [Fact]
    public void Volume_state_matches_the_model_and_keeps_its_invariants()
    {
        Arbitrary<Op[]> ops = Gen.ArrayOf(s_op).ToArbitrary();
        Property property = Prop.ForAll(ops, steps =>
        {
            VolumeState initial = Created(Mirror(legs: Legs, sizeBytes: Groups * SegmentBytes));
            VolumeState state = initial;
            var model = new Model();
            var journal = ImmutableArray.CreateBuilder<IVolumeEvent>();
            for (int i = 0; i < steps.Length; i++)
            {
                ulong epochBefore = state.Epoch;
                WriterId writerBefore = state.Writer;
                ImmutableArray<LegState> legsBefore = [.. state.Groups.SelectMany(g => g.Legs.Select(l => l.State))];
                Decision<IVolumeEvent, IVolumeReply> d = state.Decide(steps[i].ToCommand(), T0.AddSeconds(i));
                foreach (IVolumeEvent e in d.Events)
                {
                    state = state.Apply(e);
                    journal.Add(e);
                }
                bool refused = model.Step(steps[i]);
                string where = $"step {i} {steps[i]}";
                Assert.True(refused == d.Reply is VolumeCommandRefused, $"{where}: model refused={refused}, state replied {d.Reply}");
                Assert.True(!refused || d.Events.IsEmpty, $"{where}: a refusal persisted events");
                Assert.True(Agrees(model, state, out string why), $"{where}: {why}");
                Assert.True(state.Groups.All(g => g.InSyncCount >= 1), $"{where}: a group lost its last in-sync leg");
                Assert.True(state.Epoch >= epochBefore, $"{where}: epoch went back");
                bool fencingChange = state.Writer != writerBefore || !legsBefore.SequenceEqual(state.Groups.SelectMany(g => g.Legs.Select(l => l.State)));
                Assert.True(!fencingChange || state.Epoch > epochBefore, $"{where}: writer or legs changed without a new epoch");
                Assert.True(state.Attachments.Count(a => a.Mode == AttachMode.ReadWrite) <= 1, $"{where}: two writers");
                Assert.True(state.Writer.Value == 0 || state.Attachments.Length == 1, $"{where}: a writer beside readers");
            }
            VolumeState replayed = journal.ToImmutable().Aggregate(initial, (s, e) => s.Apply(e));
            Assert.Equal(state.Epoch, replayed.Epoch);
            Assert.Equal(state.Attachments.AsEnumerable(), replayed.Attachments.AsEnumerable());
            Assert.Equal(state.Groups.SelectMany(g => g.Legs), replayed.Groups.SelectMany(g => g.Legs));
        });
        ModelCheck.Run(output, property, maxTests: 1000);
    }
}
