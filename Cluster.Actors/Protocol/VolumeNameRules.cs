namespace Shoal.Actors.Protocol;

/// <summary>What a volume name may be: it is an entity id, an NBD export name, a file name and a URL segment.</summary>
public static class VolumeNameRules
{
    public const int MaxLength = 64;

    /// <summary>Why <paramref name="name"/> is not a valid volume name, or null when it is.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || !char.IsAsciiLetterOrDigit(name[0])
            || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            return $"volume name '{name}' must be 1-{MaxLength} letters, digits, '-', '_' or '.', starting with a letter or digit";
        }
        return null;
    }
}
