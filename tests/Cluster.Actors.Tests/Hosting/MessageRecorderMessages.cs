using System.Collections.Immutable;

namespace Shoal.Actors.Tests.Hosting;

// The test-only message recorder's protocol.

/// <summary>Ask a <see cref="MessageRecorder"/> what it has received so far.</summary>
public sealed record GetRecorded;

/// <summary>Everything a <see cref="MessageRecorder"/> received before the <see cref="GetRecorded"/>, in order.</summary>
public sealed record Recorded(ImmutableArray<object> Messages);
