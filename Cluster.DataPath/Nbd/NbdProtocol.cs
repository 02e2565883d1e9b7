namespace Shoal.DataPath.Nbd;

/// <summary>Constants of the NBD protocol (fixed newstyle negotiation, simple replies).</summary>
public static class NbdProtocol
{
    public const ulong InitMagic = 0x4e42444d41474943; // "NBDMAGIC"
    public const ulong OptMagic = 0x49484156454F5054;  // "IHAVEOPT"
    public const ulong OptReplyMagic = 0x0003e889045565a9;
    public const uint RequestMagic = 0x25609513;
    public const uint SimpleReplyMagic = 0x67446698;

    public const ushort FlagFixedNewstyle = 1;
    public const ushort FlagNoZeroes = 2;
    public const uint ClientFlagFixedNewstyle = 1;
    public const uint ClientFlagNoZeroes = 2;

    public const uint OptExportName = 1;
    public const uint OptAbort = 2;
    public const uint OptList = 3;
    public const uint OptStartTls = 5;
    public const uint OptInfo = 6;
    public const uint OptGo = 7;

    public const uint RepAck = 1;
    public const uint RepServer = 2;
    public const uint RepInfo = 3;
    public const uint RepErrUnsup = (1u << 31) + 1;
    public const uint RepErrPolicy = (1u << 31) + 2;
    public const uint RepErrInvalid = (1u << 31) + 3;
    public const uint RepErrUnknown = (1u << 31) + 6;

    public const ushort InfoExport = 0;
    public const ushort InfoName = 1;
    public const ushort InfoDescription = 2;
    public const ushort InfoBlockSize = 3;

    public const ushort TxHasFlags = 1 << 0;
    public const ushort TxReadOnly = 1 << 1;
    public const ushort TxSendFlush = 1 << 2;
    public const ushort TxSendFua = 1 << 3;
    public const ushort TxSendTrim = 1 << 5;
    public const ushort TxSendWriteZeroes = 1 << 6;
    public const ushort TxCanMultiConn = 1 << 8;

    public const ushort CmdRead = 0;
    public const ushort CmdWrite = 1;
    public const ushort CmdDisc = 2;
    public const ushort CmdFlush = 3;
    public const ushort CmdTrim = 4;
    public const ushort CmdWriteZeroes = 6;

    public const ushort CmdFlagFua = 1 << 0;
    public const ushort CmdFlagNoHole = 1 << 1;

    public const int EPERM = 1;
    public const int EIO = 5;
    public const int ENOMEM = 12;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int EOVERFLOW = 75;
    public const int ENOTSUP = 95;
    public const int ESHUTDOWN = 108;

    /// <summary>Longest option payload accepted during negotiation; longer ones are refused unread.</summary>
    public const int MaxOptionBytes = 4096;

    /// <summary>Longest export name (the protocol's own limit).</summary>
    public const int MaxNameBytes = 4096;

    public const int RequestBytes = 28;
    public const int SimpleReplyBytes = 16;
}
