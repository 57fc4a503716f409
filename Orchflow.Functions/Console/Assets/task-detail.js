// The chosen task of a run: what it is, what it was given and what it made, and, while it waits on a person, the form
// that answers it or reviews its draft.

import { ApiError, post, runPath } from "./api.js";
import { append, duration, field, h, showFieldErrors, timeAgo, usage } from "./dom.js";
import { STATE_WORDS } from "./graph.js";
import { renderMarkdown } from "./markdown.js";
import { toolCallForm, toolCalls } from "./tool-calls.js";

/**
 * Fills `detail` with a task, or with a hint when none is chosen. While the task waits on a person and the run is not
 * over (`open`), it ends with the form that answers or reviews it.
 */
export function showTask(detail, task, state, { open, live, ...sending }) {
  detail.replaceChildren();
  if (!task) {
    detail.append(h("h2", { id: "detail-heading", tabindex: -1 }, "Task"),
      h("p", { class: "hint" }, "Choose a task in the graph to see its prompt, agent, output, usage and timing."));
    return;
  }
  const took = task.started_at && task.completed_at ? Date.parse(task.completed_at) - Date.parse(task.started_at) : null;
  const item = (term, ...value) => [h("dt", {}, term), h("dd", {}, ...value)];
  append(detail, [
    h("h2", { id: "detail-heading", tabindex: -1 }, `${task.task_id} · ${task.name}`),
    h("p", { class: "detail-badges" },
      h("span", { class: `badge kind-${task.kind}` }, task.kind === "human" ? "Human task" : `Agent: ${task.agent ?? "—"}`), " ",
      h("span", { class: `badge state-${state}`, "data-state": state }, STATE_WORDS[state] ?? state)),
    task.description ? h("p", { class: "description" }, task.description) : null,
    h("dl", { class: "meta" },
      ...item("Depends on", task.depends_on?.length ? task.depends_on.join(", ") : "nothing"),
      ...item("Started", task.started_at ? timeAgo(task.started_at) : "not yet"),
      ...item("Completed", task.completed_at ? timeAgo(task.completed_at) : "not yet"),
      ...item("Took", took === null ? "—" : duration(took)),
      ...item("Usage", usage(task.usage))),
    task.prompt ? [h("h3", {}, task.kind === "human" ? "Question" : "Prompt"), h("p", { class: "prompt" }, task.prompt)] : null,
    task.error ? h("p", { class: "run-error" }, `Error: ${task.error}`) : null,
    inputs(task),
    toolCalls(task),
    // While it runs, an agent task's text as it is written (live-output.js), shown once some arrives.
    state === "running" && task.kind !== "human" ? live.view(task.task_id, { heading: "Writing now", label: `Text ${task.task_id} is writing` }) : null,
    task.output ? [
      h("h3", {}, state === "waiting_human" && task.kind !== "human" ? "Draft" : task.kind === "human" ? "Your answer" : "Output"),
      // A long output scrolls in its box, which takes the focus so a keyboard can scroll it.
      h("div", { class: "markdown output", tabindex: 0, role: "region", "aria-label": `Output of ${task.task_id}` }, renderMarkdown(task.output)),
    ] : null,
    state === "waiting_human" && open
      ? (task.pending_tool_call ? toolCallForm(task, sending, complete) : task.kind === "human" ? answerForm(task, sending) : reviewForms(task, sending))
      : null]);
}

/** What a human task builds on, as the run holds it: what a person approves, or answers with in mind. */
function inputs(task) {
  if (task.kind !== "human" || !task.inputs?.length) {
    return null;
  }
  return h("section", { class: "inputs", "aria-label": `What ${task.task_id} depends on` },
    h("h3", {}, task.inputs.length === 1 ? "What this depends on" : `What this depends on (${task.inputs.length} outputs)`),
    task.inputs.map((input, i) => h("details", { open: i === task.inputs.length - 1 },
      h("summary", {}, h("span", { class: "mono" }, input.task_id), ` ${input.name}`),
      h("div", { class: "markdown output", tabindex: 0, role: "region", "aria-label": `Output of ${input.task_id}` }, renderMarkdown(input.output)))));
}

/**
 * Sends an answer or a review of `task`. `onSent` is told once Orchflow took it, `refetch` when the run should be read
 * again; the form's controls stay disabled after a success and come back after a refusal.
 */
async function complete(task, body, form, message, onFieldErrors, { runId, signal, onSent, refetch }) {
  message.textContent = "Sending…";
  try {
    await post(runPath(runId, `/tasks/${encodeURIComponent(task.task_id)}/complete`), body, { signal });
    for (const control of form.querySelectorAll("button, textarea, input")) {
      control.disabled = true;
    }
    message.textContent = "Sent. The run goes on.";
    onSent();
    refetch();
  } catch (error) {
    if (error.name === "AbortError") {
      return;
    }
    if (error instanceof ApiError && error.status === 422) {
      onFieldErrors(error.errors);
      message.textContent = "Not sent: see the message above.";
    } else if (error instanceof ApiError && error.status === 409) {
      message.textContent = `Not sent: ${error.message}`;
      refetch();
    } else {
      message.textContent = `Not sent: ${error.message}`;
    }
    for (const control of form.querySelectorAll("button, textarea, input")) {
      control.disabled = false;
    }
  }
}

function answerForm(task, sending) {
  const answer = field("Answer", h("textarea", { name: "output", rows: 5, maxlength: 32000, required: true }),
    "Every agent task that needs it gets your answer whole.");
  const message = h("p", { class: "form-status", role: "status" });
  const form = h("form", {
    class: "task-form", novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      if (!answer.control.value.trim()) {
        showFieldErrors(answer, ["Write the answer the run waits for."]);
        answer.control.focus();
        return;
      }
      showFieldErrors(answer, []);
      for (const control of form.querySelectorAll("button, textarea")) {
        control.disabled = true;
      }
      complete(task, { output: answer.control.value }, form, message, (errors) => showFieldErrors(answer, errors.output ?? Object.values(errors).flat()), sending);
    },
  }, h("h3", {}, "Your answer"), answer.element, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Submit answer")), message);
  return form;
}

function reviewForms(task, sending) {
  const message = h("p", { class: "form-status", role: "status" });
  const edited = field("Edited draft", h("textarea", { name: "output", rows: 8, maxlength: 32000 }),
    "Approves the draft as you edit it.");
  edited.control.value = task.output ?? "";
  const feedback = field("Feedback", h("textarea", { name: "feedback", rows: 3, maxlength: 32000 }),
    "What the agent should change; it redoes the task with this.");
  const box = h("div", { class: "task-form" });
  const disable = () => box.querySelectorAll("button, textarea").forEach((c) => { c.disabled = true; });
  box.append(
    h("h3", {}, "Your review"),
    h("p", {}, "Approve the draft, approve it with your edit, or send it back with feedback."),
    h("div", { class: "actions" }, h("button", {
      type: "button", class: "primary", onclick: () => {
        disable();
        complete(task, { approved: true }, box, message, () => {}, sending);
      },
    }, "Approve")),
    h("details", {}, h("summary", {}, "Edit the draft"), edited.element,
      h("div", { class: "actions" }, h("button", {
        type: "button", onclick: () => {
          if (!edited.control.value.trim()) {
            showFieldErrors(edited, ["An edited draft cannot be empty."]);
            return;
          }
          showFieldErrors(edited, []);
          disable();
          complete(task, { output: edited.control.value }, box, message, (errors) => showFieldErrors(edited, errors.output ?? Object.values(errors).flat()), sending);
        },
      }, "Approve edited draft"))),
    h("form", {
      novalidate: true, onsubmit: (event) => {
        event.preventDefault();
        if (!feedback.control.value.trim()) {
          showFieldErrors(feedback, ["Say what the agent should change."]);
          feedback.control.focus();
          return;
        }
        showFieldErrors(feedback, []);
        disable();
        complete(task, { approved: false, feedback: feedback.control.value }, box, message, (errors) => showFieldErrors(feedback, errors.feedback ?? Object.values(errors).flat()), sending);
      },
    }, feedback.element, h("div", { class: "actions" }, h("button", { type: "submit", class: "danger-outline" }, "Reject"))),
    message);
  return box;
}
