// Starting a run: the fields of POST /runs, each with a visible label. A 422 puts each message under its field.

import { ApiError, get, newIdempotencyKey, post } from "./api.js";
import { field, h, showFieldErrors } from "./dom.js";

/** Lines of a textarea as a list: one topic per line, blanks dropped. */
function lines(text) {
  return text.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
}

export function newRunView({ main, go }) {
  const controller = new AbortController();
  // One key per filled-in form: a double click, or a retry after a lost answer, starts one run, not two.
  let idempotencyKey = newIdempotencyKey();

  const task = field("Task", h("textarea", { name: "task", rows: 5, maxlength: 8000, required: true }),
    "The goal, in plain words. Orchflow plans the steps and which agent does each.");
  const ask = field("Ask me about", h("textarea", { name: "ask_me_about", rows: 3 }),
    "One topic per line. The run starts by asking you about these; the tasks that need them wait for your answer.");
  const gates = field("Human gates", h("textarea", { name: "human_gates", rows: 2 }),
    "One word per line. A planned task whose name or description mentions one goes to you instead of an agent.");
  const approval = h("input", { type: "checkbox", name: "require_approval", id: "require-approval" });
  const planApproval = h("input", { type: "checkbox", name: "require_plan_approval", id: "require-plan-approval" });
  const provider = field("Provider", h("select", { name: "provider_id" }, h("option", { value: "" }, "Managed model (uses a trial run)")),
    "Your own registered model provider, or Orchflow's managed model.");
  const agentsBox = h("div", { class: "checks" }, h("p", { class: "hint" }, "Loading the built-in agents…"));
  const agentErrors = h("ul", { class: "field-errors", hidden: true });
  const summary = h("div", { class: "form-errors", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Start run");

  const byField = [
    ["task", task],
    ["ask_me_about", ask],
    ["human_gates", gates],
    ["provider_id", provider],
  ];

  const form = h("form", {
    class: "card run-form",
    novalidate: true,
    oninput: () => {
      idempotencyKey = newIdempotencyKey();
    },
    onsubmit: async (event) => {
      event.preventDefault();
      clearErrors();
      const body = { task: task.control.value };
      const agents = [...agentsBox.querySelectorAll("input[type=checkbox]:checked")].map((c) => ({ name: c.value }));
      if (agents.length > 0) {
        body.agents = agents;
      }
      const topics = lines(ask.control.value);
      if (topics.length > 0) {
        body.ask_me_about = topics;
      }
      const gateWords = lines(gates.control.value);
      if (gateWords.length > 0) {
        body.human_gates = gateWords;
      }
      body.require_approval = approval.checked;
      // Sent only when asked for, so the form works against a server that does not review plans.
      if (planApproval.checked) {
        body.require_plan_approval = true;
      }
      if (provider.control.value) {
        body.provider_id = provider.control.value;
      }
      if (!body.task.trim()) {
        showFieldErrors(task, ["Say what the run should do."]);
        task.control.focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = "Starting…";
      try {
        const { body: run } = await post("/runs", body, { signal: controller.signal, idempotencyKey });
        go(`#/runs/${encodeURIComponent(run.run_id)}`);
      } catch (error) {
        if (error.name === "AbortError") {
          return;
        }
        showErrors(error);
      } finally {
        submit.disabled = false;
        submit.textContent = "Start run";
      }
    },
  },
  task.element,
  h("fieldset", { class: "agents" }, h("legend", {}, "Agents"),
    h("p", { class: "hint" }, "The agents the plan may use. With none ticked, Orchflow uses every built-in one."), agentsBox, agentErrors),
  ask.element,
  gates.element,
  h("fieldset", { class: "options" }, h("legend", {}, "Approvals"),
    h("div", { class: "check" }, approval, h("label", { for: "require-approval" }, "Require approval"),
      h("p", { class: "hint" }, "Every agent's draft waits for you to approve, edit or send back with feedback.")),
    h("div", { class: "check" }, planApproval, h("label", { for: "require-plan-approval" }, "Require plan approval"),
      h("p", { class: "hint" }, "The plan waits for your review before any agent starts."))),
  provider.element,
  summary,
  h("div", { class: "actions" }, submit));

  function clearErrors() {
    summary.hidden = true;
    summary.replaceChildren();
    for (const [, entry] of byField) {
      showFieldErrors(entry, []);
    }
    agentErrors.hidden = true;
    agentErrors.replaceChildren();
  }

  function showErrors(error) {
    const messages = [];
    if (error instanceof ApiError && error.status === 422) {
      for (const [name, list] of Object.entries(error.errors)) {
        const entry = byField.find(([prefix]) => name === prefix || name.startsWith(prefix + "["));
        if (entry) {
          showFieldErrors(entry[1], list);
        } else if (name.startsWith("agents")) {
          agentErrors.hidden = false;
          list.forEach((m) => agentErrors.append(h("li", {}, m)));
        }
        messages.push(...list);
      }
    } else if (error instanceof ApiError && error.status === 402) {
      messages.push(h("span", {}, "Your managed trial runs are used up. Add your own model provider on the ",
        h("a", { href: "#/providers" }, "Providers"), " screen, then choose it under Provider."));
    } else {
      messages.push(error.message);
    }
    summary.replaceChildren(h("p", {}, "The run was not started:"), h("ul", {}, messages.map((m) => h("li", {}, m))));
    summary.hidden = false;
    summary.scrollIntoView({ block: "nearest" });
  }

  main.append(
    h("h1", { tabindex: -1 }, "New run"),
    h("p", { class: "lead" }, "Describe the goal; Orchflow plans a task graph, runs what it can in parallel and asks you where it needs you."),
    form);

  get("/agents/templates", { signal: controller.signal }).then(({ body }) => {
    agentsBox.replaceChildren(...body.agents.map((agent) => {
      const id = `agent-${agent.name}`;
      return h("div", { class: "check" },
        h("input", { type: "checkbox", id, value: agent.name, checked: true }),
        h("label", { for: id }, agent.name),
        agent.description ? h("p", { class: "hint" }, agent.description) : null);
    }));
  }).catch((error) => {
    if (error.name !== "AbortError") {
      agentsBox.replaceChildren(h("p", { class: "hint" }, `The agent list could not be loaded (${error.message}); the run uses every built-in agent.`));
    }
  });

  get("/providers", { signal: controller.signal }).then(({ body }) => {
    for (const p of body.providers) {
      provider.control.append(h("option", { value: p.provider_id }, `${p.label || p.provider} — ${p.model}`));
    }
  }).catch(() => {});

  return () => controller.abort();
}
