using System.Text;
using System.Text.RegularExpressions;

namespace Orchflow.Tests.Deployment;

/// <summary>
/// Reads the objects an ARM template expression builds, such as <c>[union(createObject('A', parameters('a')), variables('b'))]</c>:
/// each <c>createObject</c> call's keys with the text of their value expressions, and the names of the variables it uses.
/// </summary>
public static partial class ArmExpression
{
    /// <summary>Key → value expression of every createObject(...) in the expression, nested ones included.</summary>
    public static IReadOnlyDictionary<string, string> CreatedObjectEntries(string expression)
    {
        var tokens = Tokenize(expression);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if (tokens[i].Text != "createObject" || tokens[i + 1].Text != "(")
            {
                continue;
            }

            var arguments = Arguments(tokens, i + 2);
            if (arguments.Count % 2 != 0)
            {
                throw new FormatException($"createObject with an odd number of arguments in {expression}");
            }

            for (var a = 0; a < arguments.Count; a += 2)
            {
                var key = arguments[a] is [{ IsString: true } single] ? single.Value : throw new FormatException($"A createObject key is not a string literal in {expression}");
                var value = arguments[a + 1];
                entries.TryAdd(key, expression[value[0].Start..value[^1].End]);
            }
        }

        return entries;
    }

    /// <summary>Names of the template variables the expression uses whole, as <c>variables('name')</c> (not one of their properties).</summary>
    public static IEnumerable<string> VariablesUsed(string expression) =>
        VariableReference().Matches(expression).Select(m => m.Groups[1].Value).Distinct();

    /// <summary>The arguments of the call whose argument list starts at <paramref name="start"/>, as token runs.</summary>
    static List<List<Token>> Arguments(List<Token> tokens, int start)
    {
        var arguments = new List<List<Token>>();
        var current = new List<Token>();
        var depth = 0;
        for (var i = start; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (!token.IsString && token.Text is ")" or "]" && depth == 0)
            {
                if (current.Count > 0)
                {
                    arguments.Add(current);
                }

                return arguments;
            }

            if (!token.IsString && token.Text == "," && depth == 0)
            {
                arguments.Add(current);
                current = [];
                continue;
            }

            depth += token.IsString ? 0 : token.Text switch { "(" or "[" => 1, ")" or "]" => -1, _ => 0 };
            current.Add(token);
        }

        throw new FormatException("Unbalanced parentheses in an ARM expression.");
    }

    static List<Token> Tokenize(string expression)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < expression.Length)
        {
            var c = expression[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '\'')
            {
                var start = i++;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= expression.Length)
                    {
                        throw new FormatException("Unterminated string in an ARM expression.");
                    }

                    if (expression[i] == '\'' && i + 1 < expression.Length && expression[i + 1] == '\'')
                    {
                        value.Append('\'');
                        i += 2;
                    }
                    else if (expression[i] == '\'')
                    {
                        i++;
                        break;
                    }
                    else
                    {
                        value.Append(expression[i++]);
                    }
                }

                tokens.Add(new Token(expression[start..i], value.ToString(), IsString: true, start, i));
            }
            else if (char.IsLetterOrDigit(c) || c is '_' or '.' or '-')
            {
                var start = i;
                while (i < expression.Length && (char.IsLetterOrDigit(expression[i]) || expression[i] is '_' or '.' or '-'))
                {
                    i++;
                }

                tokens.Add(new Token(expression[start..i], expression[start..i], IsString: false, start, i));
            }
            else
            {
                tokens.Add(new Token(c.ToString(), c.ToString(), IsString: false, i, i + 1));
                i++;
            }
        }

        return tokens;
    }

    sealed record Token(string Text, string Value, bool IsString, int Start, int End);

    [GeneratedRegex(@"variables\('([^']+)'\)(?![.\[])")]
    private static partial Regex VariableReference();
}
