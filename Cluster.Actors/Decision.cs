using System.Collections.Immutable;

namespace Shoal.Actors;

/// <summary>What a pure <c>Decide</c> returns: the events to persist (possibly none) and the reply to send once they are applied.</summary>
public readonly record struct Decision<TEvent, TReply>(ImmutableArray<TEvent> Events, TReply Reply);
