namespace Shoal.Actors.Placement;

/// <summary>
/// How far apart the legs of one segment group must be: no two legs share a domain at this level.
/// Ordered from weakest to strongest; distinct at a level implies distinct at every weaker one.
/// </summary>
public enum FailureDomainLevel
{
    /// <summary>Distinct drives; two legs may share a node (single-node clusters, tests).</summary>
    Drive,

    /// <summary>Distinct nodes.</summary>
    Node,

    /// <summary>Distinct racks (a rack is named within its zone).</summary>
    Rack,

    /// <summary>Distinct zones.</summary>
    Zone,
}
