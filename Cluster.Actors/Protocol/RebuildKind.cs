namespace Shoal.Actors.Protocol;

public enum RebuildKind
{
    /// <summary>The leg's own segment came back: copy only the regions in the survivors' write-intent bitmaps.</summary>
    Delta,

    /// <summary>A replacement segment: copy everything.</summary>
    Full,
}
