// A plan that waits for review before any agent starts, as a form: the plan as JSON to edit, and feedback to plan again.

import { ApiError, post, runPath } from "./api.js";
import { field, h, showFieldErrors } from "./dom.js";

/**
 * The review of a plan that waits for one: approve it, approve an edit of it, or send it back with feedback.
 * `refetch` is called once Orchflow took the review.
 */
export function planReview(planned, { runId, signal, refetch }) {
  const box = h("div", { class: "plan-review" });
  const message = h("p", { class: "form-status", role: "status" });
  const errors = h("ul", { class: "field-errors", hidden: true });
  const send = async (body, button) => {
    button.disabled = true;
    message.textContent = "Sending…";
    errors.hidden = true;
    errors.replaceChildren();
    try {
      await post(runPath(runId, "/plan/review"), body, { signal });
      message.textContent = "Sent. The run goes on.";
      refetch();
    } catch (error) {
      button.disabled = false;
      message.textContent = `Not sent: ${error.message}`;
      if (error instanceof ApiError) {
        for (const list of Object.values(error.errors)) {
          list.forEach((m) => errors.append(h("li", {}, m)));
        }
        errors.hidden = errors.childElementCount === 0;
      }
    }
  };
  const planText = field("Plan (JSON)", h("textarea", { rows: 12, class: "mono", spellcheck: "false" }),
    "The planned tasks as POST /runs takes them; change names, prompts, agents or dependencies.");
  planText.control.value = JSON.stringify({
    tasks: planned.map((t) => ({
      task_id: t.task_id, name: t.name, description: t.description, kind: t.kind,
      ...(t.agent ? { agent: t.agent } : {}), depends_on: t.depends_on, ...(t.prompt ? { prompt: t.prompt } : {}),
    })),
  }, null, 2);
  const feedback = field("Feedback on the plan", h("textarea", { rows: 3, maxlength: 32000 }),
    "What the planner should change; it plans again with this.");
  box.append(
    h("h3", {}, "The plan waits for your review"),
    h("p", {}, `Orchflow planned ${planned.length} tasks, shown in the graph as pending. Nothing starts until you approve.`),
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary", onclick: (e) => send({ approved: true }, e.currentTarget) }, "Approve plan")),
    h("details", {}, h("summary", {}, "Edit the plan"), planText.element,
      h("div", { class: "actions" }, h("button", {
        type: "button", onclick: (e) => {
          let plan;
          try {
            plan = JSON.parse(planText.control.value);
          } catch (error) {
            showFieldErrors(planText, [`That is not JSON: ${error.message}`]);
            return;
          }
          showFieldErrors(planText, []);
          send({ approved: true, plan }, e.currentTarget);
        },
      }, "Approve edited plan"))),
    h("form", {
      novalidate: true, onsubmit: (e) => {
        e.preventDefault();
        if (!feedback.control.value.trim()) {
          showFieldErrors(feedback, ["Say what should change."]);
          return;
        }
        showFieldErrors(feedback, []);
        send({ approved: false, feedback: feedback.control.value }, e.submitter);
      },
    }, feedback.element, h("div", { class: "actions" }, h("button", { type: "submit" }, "Ask for a new plan"))),
    errors, message);
  return box;
}
