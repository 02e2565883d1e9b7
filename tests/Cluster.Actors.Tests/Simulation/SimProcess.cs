namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// A simulated process. A crash drops its volatile state: its timers stop firing (each one is tied to the incarnation
/// that set it) and messages that reach it while it is down are lost. Durable state lives in the subclass's fields
/// that <see cref="OnCrash"/> leaves alone (a target's drive, the entity's journal).
/// </summary>
internal abstract class SimProcess
{
    protected SimProcess(SimWorld world, int id, string name)
    {
        World = world;
        Id = id;
        Name = name;
    }

    public int Id { get; }

    public string Name { get; }

    public bool Up { get; private set; } = true;

    public int Incarnation { get; private set; }

    protected SimWorld World { get; }

    protected Simulator Sim => World.Sim;

    public void Crash()
    {
        if (!Up)
        {
            throw Sim.Failure("limits", $"{Name} crashed while down");
        }
        Up = false;
        Sim.Log($"{Name} CRASH");
        OnCrash();
    }

    public void Restart()
    {
        if (Up)
        {
            throw Sim.Failure("limits", $"{Name} restarted while up");
        }
        Up = true;
        Incarnation++;
        Sim.Log($"{Name} RESTART (incarnation {Incarnation})");
        OnRestart();
    }

    /// <summary>A message arrived (the process is up).</summary>
    public abstract void Receive(int from, object message);

    protected virtual void OnCrash()
    {
    }

    protected virtual void OnRestart()
    {
    }

    protected void Send(int to, object message) => World.Network.Send(this, to, message);

    /// <summary>Runs <paramref name="action"/> after <paramref name="delayMs"/>, unless this incarnation has crashed by then.</summary>
    protected void After(long delayMs, Action action)
    {
        int incarnation = Incarnation;
        Sim.At(delayMs, () =>
        {
            if (Up && Incarnation == incarnation)
            {
                action();
            }
        });
    }
}
