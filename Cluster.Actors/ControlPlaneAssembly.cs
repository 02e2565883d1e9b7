namespace Shoal.Actors;

/// <summary>Anchor of the control-plane assembly; the entities and agents arrive with the control-plane issue.</summary>
public static class ControlPlaneAssembly
{
    public const string Name = "Shoal.Actors";
}
