using System.Net;

namespace Orchflow.Client;

/// <summary>RFC 9457 problem details, as Orchflow sends with every 4xx and 5xx answer.</summary>
/// <param name="Type">Names the kind of problem.</param>
/// <param name="Title">The kind of problem, in a few words.</param>
/// <param name="Status">The HTTP status, repeated.</param>
/// <param name="Detail">What went wrong with this request and what to do about it.</param>
/// <param name="Code">A stable machine word (<c>not_found</c>, <c>validation_failed</c>…): branch on this.</param>
/// <param name="Errors">With <c>validation_failed</c>: each field at fault and what is wrong with it.</param>
public sealed record ProblemDetails(string Type, string Title, int Status, string Detail, string Code,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Errors);

/// <summary>Orchflow refused a request or failed it: every error answer surfaces as this one type.</summary>
public sealed class OrchflowProblemException : Exception
{
    /// <summary>An exception for <paramref name="problem"/>, answered with <paramref name="status"/>.</summary>
    public OrchflowProblemException(HttpStatusCode status, ProblemDetails problem)
        : base($"{(int)status} {problem.Code}: {problem.Detail}")
    {
        StatusCode = status;
        Problem = problem;
    }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The problem details the server sent.</summary>
    public ProblemDetails Problem { get; }

    /// <summary>The problem's stable code.</summary>
    public string Code => Problem.Code;
}
