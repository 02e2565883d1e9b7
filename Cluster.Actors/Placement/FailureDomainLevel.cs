namespace Shoal.Actors.Placement;

/// <summary>The level at which the legs of one segment group must sit in distinct failure domains.</summary>
public enum FailureDomainLevel
{
    Drive,
    Node,
    Rack,
    Zone,
}
