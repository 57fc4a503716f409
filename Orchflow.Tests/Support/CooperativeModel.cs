namespace Orchflow.Tests.Support;

/// <summary>
/// How the loopback model server answers when it cooperates: the planner gets the plan it was given (a 500 when none
/// was, so Orchflow's own planner takes over), the editor <see cref="FinalAnswer"/>, and each agent task an output that
/// names it (<see cref="OutputOf"/>). A test that needs one call to go wrong answers that call itself and leaves the
/// rest to <see cref="Answer"/>.
/// </summary>
public sealed class CooperativeModel(string? plan)
{
    /// <summary>The person's context and research side by side, then the writer once both are done.</summary>
    public const string HumanResearchWriterPlan = """
        {"tasks": [
          {"task_id": "T1", "name": "Provide company details", "description": "The company details the strategy needs.", "kind": "human", "agent": "", "depends_on": [], "prompt": "Tell us your company details: product, audience, brand voice."},
          {"task_id": "T2", "name": "Research competitors", "description": "Pricing and positioning of the main competitors.", "kind": "agent", "agent": "research", "depends_on": [], "prompt": ""},
          {"task_id": "T3", "name": "Draft the launch strategy", "description": "A one-page launch strategy.", "kind": "agent", "agent": "writer", "depends_on": ["T1", "T2"], "prompt": ""}
        ]}
        """;

    public const string FinalAnswer = "Final answer from the provider.";

    public static string OutputOf(string? taskId) => $"Output of {taskId} from the provider.";

    public FakeReply Answer(ChatRequestRecord request) =>
        request.IsPlanner ? (plan is null ? FakeReply.ServerError(500) : FakeReply.Chat(plan))
        : request.IsSynthesis ? FakeReply.Chat(FinalAnswer)
        : FakeReply.Chat(OutputOf(request.TaskId));
}
