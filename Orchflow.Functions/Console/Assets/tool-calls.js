// A task's tool calls as its run records them (tool, arguments, state, result or error, a person's reason), and the
// form that answers a call waiting for a person: approve it as asked, approve it with edited arguments (checked as
// JSON here, then by Orchflow against the tool's schema), or refuse it with a reason the agent is told.

import { duration, field, h, showFieldErrors, timeAgo } from "./dom.js";

const CALL_STATE_WORDS = {
  running: "running",
  waiting_human: "waiting for you",
  completed: "completed",
  failed: "failed",
  rejected: "refused",
};

/** Badge colours: a refused call looks like a cancelled task. */
const CALL_STATE_BADGES = { rejected: "cancelled" };

/** Arguments this long or shorter show unfolded. */
const SHORT_ARGUMENTS_LINES = 8;

/**
 * Folds a person opened or closed, by call and part: the details are drawn anew as the run changes, and keep them as
 * they were left.
 */
const folds = new Map();

const pretty = (value) => JSON.stringify(value ?? {}, null, 2);

function fold(key, summary, openByDefault, ...content) {
  return h("details", {
    class: "fold", "data-fold": key, open: folds.get(key) ?? openByDefault,
    ontoggle: (event) => folds.set(key, event.currentTarget.open),
  }, h("summary", {}, summary), ...content);
}

/** A block of JSON or text that scrolls in its own box: focusable and named, so a keyboard can scroll it. */
const block = (className, label, text) => h("pre", { class: className, tabindex: 0, role: "region", "aria-label": label }, text);

/** The calls of a task, oldest first; null when it made none. */
export function toolCalls(task) {
  const calls = task.tool_calls ?? [];
  if (calls.length === 0) {
    return null;
  }
  const id = `tool-calls-${task.task_id}`;
  return h("section", { class: "tool-calls", "aria-labelledby": id },
    h("h3", { id }, calls.length === 1 ? "Tool call" : `Tool calls (${calls.length})`),
    h("ol", { class: "tool-call-list" }, calls.map((call, i) => toolCall(call, i + 1))));
}

function toolCall(call, number) {
  const word = CALL_STATE_WORDS[call.state] ?? call.state;
  const took = call.completed_at ? Date.parse(call.completed_at) - Date.parse(call.started_at) : null;
  const args = pretty(call.arguments);
  const name = `${number}. ${call.tool}`;
  return h("li", { class: "tool-call", "data-call-id": call.call_id, "data-state": call.state },
    h("p", { class: "tool-call-head" },
      h("span", { class: "mono tool-name" }, call.tool), " ",
      h("span", { class: `badge state-${CALL_STATE_BADGES[call.state] ?? call.state}`, "data-state": call.state }, word), " ",
      h("span", { class: "hint" }, "asked ", timeAgo(call.started_at), took === null ? "" : `, done ${duration(took)} later`)),
    // A call waiting for a person shows its arguments in the form that answers it: here they start folded.
    fold(`${call.call_id}:arguments`, "Arguments", call.state !== "waiting_human" && args.split("\n").length <= SHORT_ARGUMENTS_LINES,
      block("json", `Arguments of call ${name}`, args)),
    call.feedback ? h("p", { class: "tool-feedback" }, h("strong", {}, call.state === "rejected" ? "Refused because: " : "Your note: "), call.feedback) : null,
    call.error ? h("p", { class: "run-error" }, `Error: ${call.error}`) : null,
    typeof call.result === "string"
      ? fold(`${call.call_id}:result`, `Result (${call.result.length.toLocaleString()} characters)`, false,
        block("tool-result", `Result of call ${name}`, call.result))
      : null);
}

/** What a tool takes, from its input schema: each argument with its type, whether it is required, and what it is. */
function schemaSummary(tool, schema) {
  const properties = Object.entries(schema?.properties ?? {});
  if (properties.length === 0) {
    return null;
  }
  const required = new Set(schema.required ?? []);
  return fold(`schema:${tool}`, `What ${tool} takes`, false,
    h("ul", { class: "tool-schema" }, properties.map(([name, property]) => h("li", {},
      h("code", {}, name), ` (${[property?.type ?? "any"].flat().join(" or ")}${required.has(name) ? ", required" : ""})`,
      property?.description ? `: ${property.description}` : ""))));
}

/** Edited arguments as sent, or why they cannot be: they must be a JSON object. */
export function parseArguments(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `This is not JSON: ${error.message}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { problem: "The arguments must be a JSON object: { \"name\": value, … }." };
  }
  return { value };
}

/** A 422's problems with edited arguments, each naming the argument it is about (arguments.url → url). */
function argumentProblems(errors) {
  return Object.entries(errors).flatMap(([name, messages]) => messages.map((message) =>
    name.startsWith("arguments.") ? `${name.slice("arguments.".length)}: ${message}` : message));
}

/**
 * The form for the call `task` waits on (its pending_tool_call). `complete` sends an answer as the task's details do
 * (task-detail.js): it disables the controls, says how it went, and has the run read again.
 */
export function toolCallForm(task, sending, complete) {
  const pending = task.pending_tool_call;
  const args = pretty(pending.arguments);
  const message = h("p", { class: "form-status", role: "status" });
  const edited = field("Arguments (JSON)",
    h("textarea", { name: "arguments", class: "mono json-editor", rows: Math.min(12, args.split("\n").length + 1), spellcheck: "false", autocomplete: "off" }),
    "Checked as JSON here, then by Orchflow against what the tool takes.");
  edited.control.value = args;
  const reason = field("Reason for refusing", h("textarea", { name: "feedback", rows: 3, maxlength: 32000 }),
    "Told to the agent in place of the call's result; the call is not made.");
  const headingId = `tool-approval-${task.task_id}`;
  const box = h("section", { class: "task-form tool-approval", "aria-labelledby": headingId });
  const disable = () => box.querySelectorAll("button, textarea").forEach((c) => { c.disabled = true; });
  box.append(
    h("h3", { id: headingId }, "Tool call waiting for you"),
    h("p", {}, `${task.task_id} asks to call `, h("strong", { class: "mono" }, pending.tool),
      " with these arguments. Approve the call as asked, edit its arguments, or refuse it with a reason."),
    block("json", `Arguments ${task.task_id} asks to call ${pending.tool} with`, args),
    schemaSummary(pending.tool, pending.input_schema),
    h("div", { class: "actions" }, h("button", {
      type: "button", class: "primary", onclick: () => {
        disable();
        complete(task, { approved: true }, box, message, () => {}, sending);
      },
    }, "Approve")),
    h("details", { class: "edit-arguments" }, h("summary", {}, "Edit arguments"), edited.element,
      h("div", { class: "actions" }, h("button", {
        type: "button", onclick: () => {
          const parsed = parseArguments(edited.control.value);
          if (parsed.problem) {
            showFieldErrors(edited, [parsed.problem]);
            edited.control.focus();
            return;
          }
          showFieldErrors(edited, []);
          disable();
          complete(task, { approved: true, arguments: parsed.value }, box, message, (errors) => {
            showFieldErrors(edited, argumentProblems(errors));
            edited.control.focus();
          }, sending);
        },
      }, "Approve with edited arguments"))),
    h("form", {
      novalidate: true, onsubmit: (event) => {
        event.preventDefault();
        if (!reason.control.value.trim()) {
          showFieldErrors(reason, ["Say why the call should not be made: the agent is told."]);
          reason.control.focus();
          return;
        }
        showFieldErrors(reason, []);
        disable();
        complete(task, { approved: false, feedback: reason.control.value }, box, message,
          (errors) => showFieldErrors(reason, errors.feedback ?? Object.values(errors).flat()), sending);
      },
    }, reason.element, h("div", { class: "actions" }, h("button", { type: "submit", class: "danger-outline" }, "Refuse"))),
    message);
  return box;
}
