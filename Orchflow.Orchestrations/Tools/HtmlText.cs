using System.Net;
using System.Text;

namespace Orchflow.Tools;

/// <summary>
/// A web page reduced to the text a person reads on it: its title apart; scripts, styles, comments and other
/// unrendered parts dropped; paragraphs apart, list items as "- " lines, a table's cells on their row's line; entities
/// decoded; runs of whitespace collapsed (kept in <c>pre</c>). A scanner, not a parser: malformed markup still gives its text.
/// </summary>
public static class HtmlText
{
    /// <summary>Marks a paragraph's edge while the text is built: a blank line, where a plain line break is one line.</summary>
    const char Paragraph = '\u2029';

    /// <summary>Elements whose content is never text a reader sees.</summary>
    static readonly HashSet<string> Unrendered = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas", "select", "textarea", "button",
    };

    /// <summary>Elements set apart by a blank line.</summary>
    static readonly HashSet<string> Paragraphs = new(StringComparer.OrdinalIgnoreCase)
    {
        "address", "article", "aside", "blockquote", "dl", "details", "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "main", "nav", "ol", "p", "pre", "section", "table", "ul",
    };

    /// <summary>Elements that start a line of their own.</summary>
    static readonly HashSet<string> Lines = new(StringComparer.OrdinalIgnoreCase)
    {
        "body", "br", "caption", "dd", "div", "dt", "figcaption", "hr", "html", "li", "summary", "tr",
    };

    public static (string? Title, string Text) Reduce(string html)
    {
        var text = new StringBuilder(Math.Min(html.Length, 1 << 20));
        string? title = null;
        var pre = 0;
        var i = 0;
        while (i < html.Length)
        {
            var lt = html.IndexOf('<', i);
            AppendText(text, html.AsSpan(i, (lt < 0 ? html.Length : lt) - i), pre > 0);
            if (lt < 0)
            {
                break;
            }

            i = lt;
            if (At(html, i, "<!--"))
            {
                i = After(html, i + 4, "-->");
            }
            else if (At(html, i, "<!") || At(html, i, "<?"))
            {
                i = After(html, i + 2, ">");
            }
            else if (Tag(html, i) is { } tag)
            {
                i = tag.End;
                if (tag.Closing)
                {
                    pre -= tag.Name.Equals("pre", StringComparison.OrdinalIgnoreCase) && pre > 0 ? 1 : 0;
                }
                else if (Unrendered.Contains(tag.Name) || tag.Name.Equals("title", StringComparison.OrdinalIgnoreCase))
                {
                    var close = html.IndexOf("</" + tag.Name, i, StringComparison.OrdinalIgnoreCase);
                    var content = close < 0 ? "" : html[i..close];
                    title ??= tag.Name.Equals("title", StringComparison.OrdinalIgnoreCase) ? Collapse(WebUtility.HtmlDecode(content)) : null;
                    i = close < 0 ? html.Length : After(html, close, ">");
                    continue;
                }
                else if (tag.Name.Equals("pre", StringComparison.OrdinalIgnoreCase))
                {
                    pre++;
                }

                if (Paragraphs.Contains(tag.Name))
                {
                    text.Append(Paragraph);
                }
                else if (Lines.Contains(tag.Name))
                {
                    text.Append('\n');
                    if (!tag.Closing && tag.Name.Equals("li", StringComparison.OrdinalIgnoreCase))
                    {
                        text.Append("- ");
                    }
                }
                else if (!tag.Closing && (tag.Name.Equals("td", StringComparison.OrdinalIgnoreCase) || tag.Name.Equals("th", StringComparison.OrdinalIgnoreCase)))
                {
                    // Cells of a row on one line, told apart.
                    text.Append(text.Length > 0 && text[^1] is not ('\n' or Paragraph) ? " | " : "");
                }
            }
            else
            {
                // A '<' that opens no tag ("a < b") is text.
                text.Append('<');
                i++;
            }
        }

        return (string.IsNullOrEmpty(title) ? null : title, Tidy(text.ToString()));
    }

    readonly record struct TagAt(string Name, bool Closing, int End);

    /// <summary>The tag that starts at <paramref name="at"/>, its attributes skipped with their quotes respected.</summary>
    static TagAt? Tag(string html, int at)
    {
        var i = at + 1;
        var closing = i < html.Length && html[i] == '/';
        i += closing ? 1 : 0;
        var start = i;
        while (i < html.Length && (char.IsAsciiLetterOrDigit(html[i]) || html[i] is '-' or ':'))
        {
            i++;
        }

        if (i == start || !char.IsAsciiLetter(html[start]))
        {
            return null;
        }

        var name = html[start..i];
        char? quote = null;
        for (; i < html.Length; i++)
        {
            var c = html[i];
            if (quote is { } q)
            {
                quote = c == q ? null : q;
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '>')
            {
                return new TagAt(name, closing, i + 1);
            }
        }

        return new TagAt(name, closing, html.Length);
    }

    static void AppendText(StringBuilder text, ReadOnlySpan<char> raw, bool preformatted)
    {
        if (raw.IsEmpty)
        {
            return;
        }

        var decoded = WebUtility.HtmlDecode(raw.ToString());
        if (preformatted)
        {
            text.Append(decoded);
            return;
        }

        foreach (var c in decoded)
        {
            // Non-breaking spaces are spaces to a reader, and collapse like them.
            if (char.IsWhiteSpace(c))
            {
                if (text.Length > 0 && text[^1] is not (' ' or '\n' or Paragraph))
                {
                    text.Append(' ');
                }
            }
            else
            {
                text.Append(c);
            }
        }
    }

    /// <summary>
    /// The text with its breaks settled: a run of breaks is one line break, or a blank line if any of them was a
    /// paragraph's; none at either end, and no space at a line's end.
    /// </summary>
    static string Tidy(string text)
    {
        var result = new StringBuilder(text.Length);
        var pending = 0;
        foreach (var c in text)
        {
            if (c is '\n' or Paragraph)
            {
                pending = Math.Max(pending, c == Paragraph ? 2 : 1);
                continue;
            }

            if (pending > 0)
            {
                while (result.Length > 0 && result[^1] == ' ')
                {
                    result.Length--;
                }

                if (result.Length > 0)
                {
                    result.Append(pending == 2 ? "\n\n" : "\n");
                }

                pending = 0;
            }

            result.Append(c);
        }

        return result.ToString().TrimEnd();
    }

    static string Collapse(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    static bool At(string html, int i, string what) => string.CompareOrdinal(html, i, what, 0, what.Length) == 0;

    static int After(string html, int from, string what)
    {
        var end = html.IndexOf(what, from, StringComparison.Ordinal);
        return end < 0 ? html.Length : end + what.Length;
    }
}
