using System.Text.Json;

namespace Orchflow.Planning;

/// <summary>
/// The JSON schema of a plan, sent as the planner's response format to providers that honour one. It describes the
/// same shape as <see cref="PlanJson"/> reads, kept to the subset of JSON Schema every provider accepts (plain
/// types, every property required, no extra properties); the validator still checks the rest.
/// </summary>
public static class PlanSchema
{
    public const string Name = "orchflow_plan";

    public static readonly JsonElement Schema = JsonDocument.Parse("""
        {
          "type": "object",
          "properties": {
            "tasks": {
              "type": "array",
              "description": "The tasks of the plan, T1, T2, ... in order.",
              "items": {
                "type": "object",
                "properties": {
                  "task_id": { "type": "string", "description": "T1, T2, ... with no gaps." },
                  "name": { "type": "string", "description": "A short imperative phrase." },
                  "description": { "type": "string", "description": "What the task's output must contain." },
                  "kind": { "type": "string", "enum": ["agent", "human"] },
                  "agent": { "type": "string", "description": "One of the listed agents for an agent task; empty for a human task." },
                  "depends_on": { "type": "array", "items": { "type": "string" }, "description": "Task ids of this plan whose output this task needs." },
                  "prompt": { "type": "string", "description": "For a human task, what the person is asked; empty for an agent task." }
                },
                "required": ["task_id", "name", "description", "kind", "agent", "depends_on", "prompt"],
                "additionalProperties": false
              }
            }
          },
          "required": ["tasks"],
          "additionalProperties": false
        }
        """).RootElement.Clone();
}
