namespace Shoal.Actors.Protocol;

public enum AttachMode
{
    /// <summary>The one exclusive writer.</summary>
    ReadWrite,

    /// <summary>One of any number of readers; excludes a writer.</summary>
    ReadOnly,
}
