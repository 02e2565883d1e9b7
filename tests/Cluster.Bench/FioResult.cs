namespace Shoal.Bench;

/// <summary>The figures taken from one fio job's JSON (measured window only: fio leaves ramp time out).</summary>
internal sealed record FioResult(double Iops, long TotalIos, double ClatMeanUs, double ClatP99Us, double LatMeanUs, double LatP99Us, double ClientCpuPercent, long RuntimeMs);
