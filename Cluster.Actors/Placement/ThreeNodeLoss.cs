namespace Shoal.Actors.Placement;

/// <summary>Of all <see cref="AllTriples"/> ways three distinct nodes can fail together, the <see cref="LosingTriples"/> that take every leg of some group.</summary>
internal readonly record struct ThreeNodeLoss(long LosingTriples, long AllTriples)
{
    /// <summary>P(some group loses every leg | three nodes, chosen uniformly, fail at once).</summary>
    public double Probability => AllTriples == 0 ? 0 : (double)LosingTriples / AllTriples;
}
