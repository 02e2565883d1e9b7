using System.Net;
using Shoal.Actors.Placement;

namespace Shoal.Management.Gateway;

/// <summary>The management role's settings: where it listens, its tokens, and the defaults a volume create fills in.</summary>
public sealed record GatewayOptions
{
    public required IPEndPoint Listen { get; init; }

    /// <summary>Bearer token of the admin role (every request).</summary>
    public required string AdminToken { get; init; }

    /// <summary>Bearer token of the read-only role (GET requests).</summary>
    public required string ReadToken { get; init; }

    public required string NodeName { get; init; }

    public string DefaultDriveClass { get; init; } = "ssd";

    public FailureDomainLevel DefaultSpread { get; init; } = FailureDomainLevel.Node;

    /// <summary>How long one question to an entity or agent may take before the request answers 503.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Most volumes one page of the list answers with (<c>?limit=</c> may ask for fewer); <c>?after=NAME</c> pages on.</summary>
    public int MaxListedVolumes { get; init; } = 1000;
}
