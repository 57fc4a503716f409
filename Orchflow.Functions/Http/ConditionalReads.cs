using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Orchflow.Functions.Http;

/// <summary>
/// Strong ETags for the reads of a run, and <c>If-None-Match</c>: the run's version changes with every write of it and
/// its event sequence with every event, so a tag made of one of them changes whenever the body would.
/// </summary>
public static class ConditionalReads
{
    /// <summary>The tag of a run's body, and of its task list: the run's version.</summary>
    public static string RunTag(long version) => $"\"v{version}\"";

    /// <summary>The tag of a page of a run's events: the run's last sequence (a page only ever grows with it).</summary>
    public static string EventsTag(long sequence) => $"\"s{sequence}\"";

    /// <summary>True when the request's If-None-Match holds <paramref name="tag"/> (or is <c>*</c>): the client already has it.</summary>
    public static bool Matches(HttpRequest request, string tag)
    {
        var header = request.Headers.IfNoneMatch;
        if (header.Count == 0 || !EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return false;
        }

        // If-None-Match compares weakly (RFC 9110 13.1.2): W/"v3" matches "v3".
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag.Equals(tag, StringComparison.Ordinal));
    }

    /// <summary>A 304 with the tag and no body.</summary>
    public static ApiResult NotModified(string tag) =>
        new(StatusCodes.Status304NotModified, null, new Dictionary<string, string> { ["ETag"] = tag });

    /// <summary>The same response, carrying its tag.</summary>
    public static ApiResult Tagged(this ApiResult result, string tag) => result.WithHeader("ETag", tag);
}
