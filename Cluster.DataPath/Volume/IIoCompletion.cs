namespace Shoal.DataPath.Volume;

/// <summary>Told when a volume I/O finishes; <paramref name="errno"/> is 0 or a POSIX error (EIO, EPERM, EINVAL).</summary>
public interface IIoCompletion
{
    void OnIoComplete(IoRequest io, int errno);
}
