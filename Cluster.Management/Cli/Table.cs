using System.Text;

namespace Shoal.Management.Cli;

/// <summary>A plain text table: a header row and aligned columns, numbers right-aligned.</summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public Table Row(params object?[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"a row of {cells.Length} cells in a table of {headers.Length} columns");
        }
        _rows.Add([.. cells.Select(c => c switch
        {
            null => "-",
            double d => d.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => c.ToString() ?? "",
        })]);
        return this;
    }

    public override string ToString()
    {
        int[] widths = [.. headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length)))];
        bool[] numeric = [.. headers.Select((header, i) => _rows.Count > 0 && _rows.All(r => r[i] == "-" || double.TryParse(r[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)))];
        var text = new StringBuilder();
        Line(text, headers, widths, new bool[headers.Length]);
        foreach (string[] row in _rows)
        {
            Line(text, row, widths, numeric);
        }
        return text.ToString();
    }

    private static void Line(StringBuilder text, string[] cells, int[] widths, bool[] right)
    {
        for (int i = 0; i < cells.Length; i++)
        {
            string cell = right[i] ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]);
            text.Append(i == cells.Length - 1 ? cell.TrimEnd() : cell + "  ");
        }
        text.Append('\n');
    }
}
