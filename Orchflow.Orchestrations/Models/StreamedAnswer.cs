using System.Text;
using Microsoft.Extensions.AI;

namespace Orchflow.Models;

/// <summary>
/// A streamed answer as it arrives, kept small: runs of plain text are joined into one piece as they come instead of
/// one update object (with its raw chunk) each, which for a long answer weighs many times its text; everything else
/// (function calls, usage, the finish reason) is kept as it came.
/// </summary>
sealed class StreamedAnswer
{
    readonly List<ChatResponseUpdate> kept = [];
    readonly StringBuilder text = new();

    public void Add(ChatResponseUpdate update)
    {
        if (update.FinishReason is null && update.Contents.Count > 0 && update.Contents.All(c => c is TextContent))
        {
            foreach (var content in update.Contents)
            {
                text.Append(((TextContent)content).Text);
            }

            return;
        }

        Flush();
        update.RawRepresentation = null;
        kept.Add(update);
    }

    public ChatResponse ToResponse()
    {
        Flush();
        return kept.ToChatResponse();
    }

    void Flush()
    {
        if (text.Length > 0)
        {
            kept.Add(new ChatResponseUpdate(ChatRole.Assistant, text.ToString()));
            text.Clear();
        }
    }
}
