namespace Shoal.Actors.Protocol;

/// <summary>A client engine that has the volume attached.</summary>
public sealed record Attachment(NodeId Client, WriterId Writer, AttachMode Mode, DateTimeOffset Since);
