namespace Shoal.Actors.Tests.Simulation;

/// <summary>What the client's application does on each tick.</summary>
internal enum SimClientMode
{
    /// <summary>Random reads and writes of random free blocks.</summary>
    Random,

    /// <summary>Nothing new: lets the system settle.</summary>
    Off,

    /// <summary>Writes every block once, in order (the final sweep).</summary>
    SweepWrite,

    /// <summary>Reads every block once, in order (the final sweep).</summary>
    SweepRead,
}
