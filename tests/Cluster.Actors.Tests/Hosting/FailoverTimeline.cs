namespace Shoal.Actors.Tests.Hosting;

/// <summary>When, after the kill, a survivor saw each step of a failover.</summary>
public sealed class FailoverTimeline
{
    public TaskCompletionSource<TimeSpan> Unreachable { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<TimeSpan> Downed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<TimeSpan> Removed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<TimeSpan> EntityBack { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task AllAsync() => Task.WhenAll(Unreachable.Task, Downed.Task, Removed.Task, EntityBack.Task);
}
