namespace Shoal.Actors.Protocol;

/// <summary>
/// A rebuilding leg's checkpoint: everything below <see cref="DoneBytes"/> of the segment is copied. A rebuild
/// resumes from here after any crash. Rate and ETA are measured over the checkpoints since <see cref="StartedAt"/>.
/// </summary>
public sealed record RebuildProgress(RebuildKind Kind, long DoneBytes, long TotalBytes, DateTimeOffset StartedAt, DateTimeOffset CheckpointAt)
{
    public double Percent => TotalBytes == 0 ? 100 : 100.0 * DoneBytes / TotalBytes;

    public double BytesPerSecond
    {
        get
        {
            double seconds = (CheckpointAt - StartedAt).TotalSeconds;
            return seconds <= 0 ? 0 : DoneBytes / seconds;
        }
    }

    /// <summary>Remaining time at the measured rate; null before the first checkpoint.</summary>
    public TimeSpan? Eta => BytesPerSecond <= 0 ? null : TimeSpan.FromSeconds((TotalBytes - DoneBytes) / BytesPerSecond);
}
