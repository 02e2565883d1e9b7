using FsCheck;
using Microsoft.FSharp.Core;
using Xunit.Abstractions;

namespace Shoal.Actors.Tests.State;

/// <summary>Runs an FsCheck property from a printed seed; <c>SHOAL_FSCHECK_SEED</c> replays one.</summary>
internal static class ModelCheck
{
    public static void Run(ITestOutputHelper output, Property property, int maxTests)
    {
        ulong seed = Environment.GetEnvironmentVariable("SHOAL_FSCHECK_SEED") is { Length: > 0 } text
            ? ulong.Parse(text, System.Globalization.CultureInfo.InvariantCulture)
            : (ulong)Random.Shared.NextInt64(1, long.MaxValue);
        output.WriteLine($"FsCheck seed {seed} (replay: SHOAL_FSCHECK_SEED={seed})");
        Config config = Config.QuickThrowOnFailure
            .WithMaxTest(maxTests)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, 0x9E3779B97F4A7C15UL | 1), FSharpOption<int>.None)));
        try
        {
            Check.One(config, property);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"model check failed with seed {seed} (replay: SHOAL_FSCHECK_SEED={seed}): {e.Message}");
        }
    }
}
