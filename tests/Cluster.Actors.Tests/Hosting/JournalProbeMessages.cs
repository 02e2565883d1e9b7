using System.Collections.Immutable;

namespace Shoal.Actors.Tests.Hosting;

// The test-only journal probe's protocol: one family, as in the production protocol files.

/// <summary>Persist <paramref name="Value"/> as the next event.</summary>
public sealed record AppendEvent(string Value);

/// <summary>Reply to <see cref="AppendEvent"/> once the event is in the journal.</summary>
public sealed record EventAppended(long SequenceNr);

/// <summary>Ask for every event the probe holds, recovered or appended.</summary>
public sealed record GetEvents;

/// <summary>Reply to <see cref="GetEvents"/>, in journal order.</summary>
public sealed record EventLog(ImmutableArray<string> Events);
