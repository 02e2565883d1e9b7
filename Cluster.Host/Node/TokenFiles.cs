using System.Security.Cryptography;
using Shoal.Host.Cli;
using Shoal.Management.Cli;

namespace Shoal.Host.Node;

/// <summary>The gateway's bearer tokens: read from their files, or made (random, owner-only) on first start.</summary>
internal static class TokenFiles
{
    public const int MinTokenChars = 16;

    public static string LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            string token = File.ReadAllText(path).Trim();
            if (token.Length < MinTokenChars || token.Any(char.IsWhiteSpace))
            {
                throw new CliException($"token file {path}: a token is at least {MinTokenChars} characters with no spaces");
            }
            return token;
        }
        string made = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temp = path + ".tmp";
        var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temp, create))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(made + "\n");
        }
        File.Move(temp, path, overwrite: true);
        return made;
    }
}
