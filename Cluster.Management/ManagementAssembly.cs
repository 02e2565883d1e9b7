namespace Shoal.Management;

/// <summary>Anchor of the management assembly; the gateway, GUI and metrics arrive with the operator-tools issue.</summary>
public static class ManagementAssembly
{
    public const string Name = "Shoal.Management";
}
