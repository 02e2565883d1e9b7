namespace Shoal.Management.Cli;

/// <summary>
/// A small, strict option parser: <c>--name value</c> pairs and <c>--flag</c> switches. Unknown
/// options, missing values and repeated single options are errors, reported in one line.
/// </summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private CliArgs()
    {
    }

    public static CliArgs Parse(IReadOnlyList<string> args, IReadOnlySet<string> valueOptions, IReadOnlySet<string> flagOptions)
    {
        var parsed = new CliArgs();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                throw new CliException($"unexpected argument '{a}'");
            }
            string name = a[2..];
            string? inline = null;
            int eq = name.IndexOf('=');
            if (eq > 0)
            {
                inline = name[(eq + 1)..];
                name = name[..eq];
            }
            if (flagOptions.Contains(name) && inline == null)
            {
                parsed._flags.Add(name);
                continue;
            }
            if (!valueOptions.Contains(name))
            {
                throw new CliException($"unknown option '--{name}'");
            }
            string value = inline ?? (i + 1 < args.Count ? args[++i] : throw new CliException($"option '--{name}' needs a value"));
            if (!parsed._values.TryGetValue(name, out List<string>? list))
            {
                parsed._values[name] = list = [];
            }
            list.Add(value);
        }
        return parsed;
    }

    public bool Flag(string name) => _flags.Contains(name);

    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out List<string>? v) ? v : [];

    public string? Optional(string name)
    {
        IReadOnlyList<string> v = All(name);
        return v.Count switch
        {
            0 => null,
            1 => v[0],
            _ => throw new CliException($"option '--{name}' given more than once"),
        };
    }

    public string Required(string name) => Optional(name) ?? throw new CliException($"option '--{name}' is required");

    public int Int(string name, int fallback, int min, int max)
    {
        string? s = Optional(name);
        if (s == null)
        {
            return fallback;
        }
        if (!int.TryParse(s, out int v) || v < min || v > max)
        {
            throw new CliException($"option '--{name}' must be a whole number from {min} to {max}, not '{s}'");
        }
        return v;
    }

    public ulong ULong(string name, ulong fallback)
    {
        string? s = Optional(name);
        if (s == null)
        {
            return fallback;
        }
        if (!ulong.TryParse(s, out ulong v) || v == 0)
        {
            throw new CliException($"option '--{name}' must be a positive whole number, not '{s}'");
        }
        return v;
    }

    public long Size(string name, long fallback)
    {
        string? s = Optional(name);
        return s == null ? fallback : Sizes.Parse(s, $"--{name}");
    }
}
