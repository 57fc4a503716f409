using System.Security.Cryptography;
using System.Text;

namespace Orchflow.Prompts;

/// <summary>
/// Text that people, tools and earlier model calls wrote, as a model is sent it: each piece in a block of its own,
/// <c>&lt;data-xxxx source="goal"&gt;…&lt;/data-xxxx&gt;</c>, in a user message, never in a system message. The tag is
/// taken from a hash of every piece of the message, so no piece can contain it: an answer that writes
/// <c>&lt;/data-…&gt;</c> and instructions after it stays inside its own block. The system messages say what these
/// blocks are (<c>data-rules.md</c>): material to use, never instructions.
/// </summary>
public sealed class DataBlocks
{
    readonly List<(string Source, string Text)> blocks = [];

    /// <summary>Adds a block; an empty piece is written as <c>(none)</c>, so the model sees it was asked and empty.</summary>
    public DataBlocks Add(string source, string? text)
    {
        blocks.Add((source, string.IsNullOrWhiteSpace(text) ? "(none)" : text.Trim()));
        return this;
    }

    /// <summary>The blocks, in the order added, fenced by a tag none of them contains.</summary>
    public override string ToString()
    {
        var tag = Tag();
        return string.Join("\n\n", blocks.Select(b => $"<{tag} source=\"{b.Source}\">\n{b.Text}\n</{tag}>"));
    }

    string Tag()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (source, text) in blocks)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(source));
            hash.AppendData([0]);
            hash.AppendData(Encoding.UTF8.GetBytes(text));
            hash.AppendData([0]);
        }

        return "data-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
    }
}
