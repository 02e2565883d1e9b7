namespace Shoal.Integration.Tests;

/// <summary>Waits for state by polling with a deadline (never a fixed sleep standing in for the state).</summary>
internal static class Poll
{
    public static void Until(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(60);
        long deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"waited {limit.TotalSeconds:0} s for {what}");
            }
            Thread.Sleep(250);
        }
    }
}
