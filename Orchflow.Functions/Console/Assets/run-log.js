// A run as its event log tells it. The log announces every state of the run and its tasks once and in order, so what
// it says is newer than the last read of the run: the page shows these states, and the run for everything else.

export const TERMINAL = new Set(["completed", "failed", "cancelled"]);

const TASK_EVENT_STATES = {
  "task.started": "running",
  "task.revision_requested": "running",
  "task.waiting_human": "waiting_human",
  "task.completed": "completed",
  "task.failed": "failed",
  "task.cancelled": "cancelled",
};

const RUN_EVENT_STATUS = {
  "run.queued": "queued",
  "run.planning": "planning",
  "run.running": "running",
  "run.waiting_human": "waiting_human",
  "run.completed": "completed",
  "run.failed": "failed",
  "run.cancelled": "cancelled",
};

/** An event of the log in words, for the timeline. */
export function describe(event) {
  const t = event.task_id;
  const d = event.data ?? {};
  switch (event.type) {
    case "run.queued": return "Run queued";
    case "run.planning": return "Planning";
    case "run.planned": return `Planned ${d.task_count ?? "the"} tasks${d.planned_by ? ` (by ${d.planned_by})` : ""}`;
    case "run.running": return "Running";
    case "run.waiting_human": return `Waiting for you: ${(d.waiting_on ?? []).join(", ")}`;
    case "run.completed": return "Run completed";
    case "run.failed": return `Run failed${d.error ? `: ${d.error}` : ""}`;
    case "run.cancelled": return "Run cancelled";
    case "run.retried": return "Run retried";
    case "plan.waiting_review": return "The plan waits for your review";
    case "plan.reviewed": return d.approved === false ? "Plan sent back for a new one" : "Plan approved";
    case "task.started": return d.resumed ? `${t} goes on` : `${t} started${d.agent ? ` (${d.agent})` : ""}`;
    case "task.waiting_human":
      return d.pending_tool_call ? `${t}: a call to ${d.pending_tool_call.tool} waits for your approval`
        : d.draft_available ? `${t}: draft waits for your review` : `${t} asks you${d.prompt ? `: ${d.prompt}` : ""}`;
    case "task.tool_call.started": return `${t} calls ${d.tool}${d.approved ? " (approved)" : ""}`;
    case "task.tool_call.waiting_human": return `${t} asks to call ${d.tool}`;
    case "task.tool_call.completed": return `${t}: ${d.tool} answered`;
    case "task.tool_call.failed": return `${t}: the ${d.tool} call failed`;
    case "task.tool_call.rejected": return `${t}: the ${d.tool} call was refused`;
    case "task.completed": return `${t} completed`;
    case "task.failed": return `${t} failed${d.error ? `: ${d.error}` : ""}`;
    case "task.cancelled": return `${t} cancelled`;
    case "task.revision_requested": return `${t} sent back${d.feedback ? `: “${d.feedback}”` : ""}`;
    default: return t ? `${t}: ${event.type}` : event.type;
  }
}

/** What the log has said so far: the run's status, each task's state, and the last event taken. */
export class RunLog {
  lastSequence = 0;
  /** Null until an event has said it. */
  status = null;
  states = new Map();

  /** Takes an event once, in order; says what it changed ({ taskState, runStatus }), or null for one already taken. */
  apply(event) {
    if (event.sequence <= this.lastSequence) {
      return null;
    }
    this.lastSequence = event.sequence;
    const taskState = event.task_id ? TASK_EVENT_STATES[event.type] : undefined;
    if (taskState) {
      this.states.set(event.task_id, taskState);
    }
    const runStatus = RUN_EVENT_STATUS[event.type];
    if (runStatus) {
      this.status = runStatus;
    }
    if (event.type === "run.planned") {
      // A new plan (after a review sent it back) has new tasks: none of them has an event yet.
      this.states.clear();
    }
    if (event.type === "run.retried") {
      // Failed and cancelled tasks run again; until their next event, the run says what they are.
      for (const [id, state] of this.states) {
        if (state === "failed" || state === "cancelled") {
          this.states.delete(id);
        }
      }
    }
    return { taskState, runStatus };
  }
}
