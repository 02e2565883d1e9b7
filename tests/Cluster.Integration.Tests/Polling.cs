namespace Shoal.Integration.Tests;

/// <summary>Waiting for a state of real processes: poll with a deadline, never a fixed sleep.</summary>
internal static class Polling
{
    public static void Until(Func<bool> condition, TimeSpan timeout, string what)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}");
            }
            Thread.Sleep(250);
        }
    }
}
