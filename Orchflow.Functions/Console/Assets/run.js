// One run: its status, what it waits on, the task graph, the chosen task's details and forms, the final output and
// the event timeline. States come from the run's event log (replayed, then live over SSE), which announces every
// state once and in order; the run itself is read again after events for what they do not carry (outputs, prompts,
// usage, timing), with its ETag so an unchanged run costs a 304.

import { ApiError, call, del, get, newIdempotencyKey, post, runPath } from "./api.js";
import { append, byTaskId, clear, clockTime, duration, field, h, showFieldErrors, timeAgo } from "./dom.js";
import { STATE_WORDS, TaskGraph } from "./graph.js";
import { renderMarkdown } from "./markdown.js";
import { STATUS_WORDS, needsYouBadge, statusBadge } from "./runs.js";
import { followRun } from "./stream.js";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

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
    case "task.started": return `${t} started${d.agent ? ` (${d.agent})` : ""}`;
    case "task.waiting_human": return d.draft_available ? `${t}: draft waits for your review` : `${t} asks you${d.prompt ? `: ${d.prompt}` : ""}`;
    case "task.completed": return `${t} completed`;
    case "task.failed": return `${t} failed${d.error ? `: ${d.error}` : ""}`;
    case "task.cancelled": return `${t} cancelled`;
    case "task.revision_requested": return `${t} sent back${d.feedback ? `: “${d.feedback}”` : ""}`;
    default: return t ? `${t}: ${event.type}` : event.type;
  }
}

const LIVE_WORDS = {
  connecting: "Connecting to the live event stream…",
  live: "Live: changes show as they happen.",
  ended: "The run has ended; nothing more will change.",
};

export function runView({ main, announce }, runId) {
  const controller = new AbortController();
  const signal = controller.signal;
  let run = null;
  let etag = null;
  let lastSequence = 0;
  let eventStatus = null;
  const eventStates = new Map();
  let selected = null;
  // "user": chosen by a click, kept. "auto" or "answered": may move on to the next task that waits for you.
  let selectedBy = "auto";
  let following = false;
  let detailKey = null;
  let needsKey = null;
  let refetchTimer = null;
  let fetching = null;
  let fetchAgain = false;

  const heading = h("h1", { tabindex: -1 }, "Run");
  const statusSlot = h("span", { class: "status-slot" });
  const goal = h("p", { class: "goal" });
  const meta = h("dl", { class: "meta" });
  const actions = h("div", { class: "run-actions" });
  const live = h("p", { class: "live", "data-live": "connecting" }, LIVE_WORDS.connecting);
  const runError = h("p", { class: "run-error", hidden: true });
  const needs = h("section", { class: "needs card", "aria-labelledby": "needs-heading", hidden: true });
  const graphBox = h("div", { class: "graph-scroll", tabindex: -1 });
  const graphWaiting = h("p", { class: "hint", hidden: true });
  const taskList = h("ol", { class: "task-list", "aria-label": "Tasks" });
  const finalBody = h("div", { class: "markdown" });
  const finalSection = h("section", { class: "final card", "aria-labelledby": "final-heading", hidden: true },
    h("h2", { id: "final-heading" }, "Final output"), finalBody);
  const detail = h("section", { class: "detail card", "aria-labelledby": "detail-heading" });
  const timeline = h("ol", { class: "timeline" });
  const timelineBox = h("div", { class: "timeline-scroll", tabindex: 0, "aria-label": "Events, oldest first" }, timeline);

  const graph = new TaskGraph(graphBox, {
    onSelect: (taskId) => select(taskId, "user", true),
  });

  main.append(
    h("div", { class: "view-head" }, h("div", { class: "title" }, heading, statusSlot), actions),
    goal, runError, meta, live, needs,
    h("section", { class: "graph card", "aria-labelledby": "graph-heading" },
      h("h2", { id: "graph-heading" }, "Task graph"),
      legend(),
      graphWaiting,
      graphBox,
      h("details", { class: "task-list-box" }, h("summary", {}, "Tasks as a list"), taskList)),
    finalSection,
    h("div", { class: "columns" },
      detail,
      h("section", { class: "events card", "aria-labelledby": "events-heading" },
        h("h2", { id: "events-heading" }, "Events"), timelineBox)));

  const tasks = () => Object.values(run?.subtasks ?? {}).sort((a, b) => byTaskId(a.task_id, b.task_id));
  const stateOf = (taskId) => eventStates.get(taskId) ?? run?.subtasks?.[taskId]?.state ?? "pending";
  const status = () => eventStatus ?? run?.status ?? "queued";
  const waitingTasks = () => tasks().filter((t) => stateOf(t.task_id) === "waiting_human");
  const planWaiting = () => status() === "waiting_human" && (run?.waiting_on ?? []).includes("plan");

  function select(taskId, by, focusDetail = false) {
    selected = taskId;
    selectedBy = by;
    renderGraph();
    renderTaskList();
    renderDetail();
    if (focusDetail) {
      document.getElementById("detail-heading")?.focus({ preventScroll: false });
    }
  }

  /** Puts the next task that waits for you in front, unless the person chose another task themselves. */
  function followWaiting() {
    const current = selected ? stateOf(selected) : null;
    if (selectedBy === "user" && selected) {
      return;
    }
    if (current === "waiting_human") {
      return;
    }
    const next = waitingTasks()[0];
    if (next) {
      selected = next.task_id;
      selectedBy = "auto";
    }
  }

  function apply(event, replaying) {
    if (event.sequence <= lastSequence) {
      return false;
    }
    lastSequence = event.sequence;
    const taskState = TASK_EVENT_STATES[event.type];
    if (taskState && event.task_id) {
      eventStates.set(event.task_id, taskState);
      if (!replaying && taskState === "waiting_human") {
        announce(`${event.task_id} waits for you.`);
      }
    }
    const runStatus = RUN_EVENT_STATUS[event.type];
    if (runStatus) {
      eventStatus = runStatus;
      if (!replaying) {
        announce(`The run is ${STATUS_WORDS[runStatus] ?? runStatus}.`);
      }
    }
    if (event.type === "run.planned") {
      // A new plan (after a review sent it back) has new tasks: none of them has an event yet.
      eventStates.clear();
    }
    if (event.type === "run.retried") {
      // Failed and cancelled tasks run again; until their next event, the run says what they are.
      for (const [id, state] of eventStates) {
        if (state === "failed" || state === "cancelled") {
          eventStates.delete(id);
        }
      }
    }
    timeline.append(h("li", { "data-sequence": event.sequence, "data-type": event.type },
      h("time", { datetime: event.created_at, class: "mono" }, clockTime(event.created_at)), " ", describe(event)));
    return true;
  }

  function onLiveEvent(event) {
    const box = timelineBox;
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
    if (!apply(event, false)) {
      return;
    }
    if (atEnd) {
      box.scrollTop = box.scrollHeight;
    }
    // States move at once; the rest of the page follows when the run is read again.
    followWaiting();
    renderGraph();
    renderTaskList();
    renderHeader();
    renderNeeds();
    scheduleRefetch();
  }

  function scheduleRefetch() {
    clearTimeout(refetchTimer);
    refetchTimer = setTimeout(refetch, 80);
  }

  function refetch() {
    if (fetching) {
      fetchAgain = true;
      return fetching;
    }
    fetching = (async () => {
      do {
        fetchAgain = false;
        try {
          await loadRun();
        } catch (error) {
          if (error.name === "AbortError") {
            return;
          }
          runError.hidden = false;
          runError.textContent = `Could not read the run: ${error.message}`;
        }
      } while (fetchAgain && !signal.aborted);
    })().finally(() => {
      fetching = null;
    });
    return fetching;
  }

  async function loadRun() {
    const answer = await get(runPath(runId), { etag, signal });
    if (answer.status === 304) {
      return;
    }
    run = answer.body;
    etag = answer.etag;
    followWaiting();
    renderAll();
  }

  async function loadEvents() {
    for (;;) {
      const { body } = await get(runPath(runId, `/events?after=${lastSequence}&limit=1000`), { signal });
      body.events.forEach((event) => apply(event, true));
      if (body.events.length < 1000) {
        return;
      }
    }
  }

  function follow() {
    if (following || signal.aborted) {
      return;
    }
    following = true;
    followRun(runId, {
      after: lastSequence,
      signal,
      onEvent: onLiveEvent,
      onStatus: (state, value) => {
        live.setAttribute("data-live", state);
        live.textContent = state === "reconnecting"
          ? `The live stream was cut off; reconnecting in ${Math.ceil(value / 1000)} s…`
          : state === "waiting"
            ? `Rate limited: the live stream resumes in ${value} s.`
            : state === "error"
              ? `Live updates stopped: ${value}`
              : LIVE_WORDS[state];
        if (state === "ended") {
          // The terminal event may have come before the last write's details: read the run once more.
          scheduleRefetch();
        }
      },
    }).finally(() => {
      following = false;
    });
  }

  function renderAll() {
    renderHeader();
    renderNeeds();
    renderGraph();
    renderTaskList();
    renderFinal();
    renderDetail();
  }

  function renderHeader() {
    const current = status();
    append(clear(statusSlot), [statusBadge(current), current === "waiting_human" ? needsYouBadge() : null]);
    heading.textContent = "Run";
    document.title = `${STATUS_WORDS[current] ?? current} · Run · Orchflow console`;
    if (!run) {
      return;
    }
    goal.textContent = run.task;
    runError.hidden = !run.error;
    runError.textContent = run.error ? `Error: ${run.error}` : "";
    const settings = [
      run.require_approval ? "every draft needs your approval" : null,
      run.ask_me_about?.length ? `asks you about ${run.ask_me_about.join(", ")}` : null,
      run.human_gates?.length ? `human gates: ${run.human_gates.join(", ")}` : null,
      run.provider_id ? `provider ${run.provider_id}` : "managed model",
    ].filter(Boolean).join("; ");
    const item = (term, ...value) => [h("dt", {}, term), h("dd", {}, ...value)];
    meta.replaceChildren(
      ...item("Run", h("span", { class: "mono" }, run.run_id)),
      ...item("Started", timeAgo(run.created_at)),
      ...item("Updated", timeAgo(run.updated_at)),
      ...item("Agents", (run.agents ?? []).map((a) => a.name).join(", ") || "all built-in"),
      ...item("Settings", settings),
      ...(run.planned_by ? item("Planned by", run.planned_by) : []),
      ...item("Usage", usage(run.usage)));
    renderActions(current);
  }

  let confirming = false;
  let actionsKey = null;
  function renderActions(current, force = false) {
    const key = JSON.stringify([TERMINAL.has(current) ? current : "open", confirming]);
    if (key === actionsKey && !force) {
      return;
    }
    actionsKey = key;
    actions.replaceChildren();
    const message = h("p", { class: "form-status", role: "status" });
    if (!TERMINAL.has(current)) {
      if (confirming) {
        actions.append(h("div", { class: "confirm", role: "group", "aria-label": "Confirm cancelling" },
          h("p", {}, "Cancel this run? Running tasks stop and nothing else starts."),
          h("div", { class: "actions" },
            h("button", {
              type: "button", class: "danger", onclick: async (event) => {
                event.currentTarget.disabled = true;
                try {
                  await del(runPath(runId), { signal });
                  confirming = false;
                  scheduleRefetch();
                } catch (error) {
                  confirming = false;
                  renderActions(status(), true);
                  actions.append(h("p", { class: "form-status" }, `Not cancelled: ${error.message}`));
                }
              },
            }, "Yes, cancel the run"),
            h("button", { type: "button", onclick: () => { confirming = false; renderActions(status()); actions.querySelector("button")?.focus(); } }, "Keep it running"))));
      } else {
        actions.append(h("button", { type: "button", class: "danger-outline", onclick: () => { confirming = true; renderActions(status()); actions.querySelector("button")?.focus(); } }, "Cancel run"));
      }
    } else if (current === "failed" || current === "cancelled") {
      actions.append(h("button", {
        type: "button", onclick: async (event) => {
          // Kept: an event's currentTarget is gone once the handler awaits.
          const button = event.currentTarget;
          button.disabled = true;
          message.textContent = "Retrying…";
          try {
            // The retry has no body to send: the run's own definition is what runs again.
            await call("POST", runPath(runId, "/retry"), { signal, idempotencyKey: newIdempotencyKey() });
            message.textContent = "";
            follow();
            scheduleRefetch();
          } catch (error) {
            button.disabled = false;
            message.textContent = `Not retried: ${error.message}`;
          }
        },
      }, "Retry run"), message);
    }
  }

  function renderNeeds() {
    const waiting = waitingTasks();
    const plan = planWaiting();
    const key = JSON.stringify([plan, plan ? run?.subtasks : null, waiting.map((t) => [t.task_id, t.name, t.kind])]);
    if (key === needsKey) {
      return;
    }
    needsKey = key;
    keepingFocus(needs, () => fillNeeds(plan, waiting));
  }

  function fillNeeds(plan, waiting) {
    needs.replaceChildren();
    needs.hidden = !plan && waiting.length === 0;
    if (needs.hidden) {
      return;
    }
    needs.append(h("h2", { id: "needs-heading" }, "Needs you"));
    if (plan) {
      needs.append(planReview());
    }
    if (waiting.length > 0) {
      needs.append(h("ul", { class: "waiting-list" }, waiting.map((t) => h("li", {},
        h("button", {
          type: "button", class: "link-button", "data-focus-key": t.task_id,
          onclick: () => select(t.task_id, "user", true),
        }, `${t.kind === "human" ? "Answer" : "Review the draft of"} ${t.task_id}: ${t.name}`)))));
    }
  }

  function planReview() {
    const box = h("div", { class: "plan-review" });
    const message = h("p", { class: "form-status", role: "status" });
    const errors = h("ul", { class: "field-errors", hidden: true });
    const planned = tasks();
    const send = async (body, button) => {
      button.disabled = true;
      message.textContent = "Sending…";
      errors.hidden = true;
      errors.replaceChildren();
      try {
        await post(runPath(runId, "/plan/review"), body, { signal });
        message.textContent = "Sent. The run goes on.";
        scheduleRefetch();
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

  function renderGraph() {
    if (!run) {
      return;
    }
    const planned = tasks();
    graphWaiting.hidden = planned.length > 0;
    graphWaiting.textContent = TERMINAL.has(status()) ? "The run ended before it had a plan." : "Planning: the task graph appears here when the plan is ready.";
    graph.render(planned, stateOf, selected);
  }

  function renderTaskList() {
    keepingFocus(taskList, () => taskList.replaceChildren(...tasks().map((t) => h("li", {},
      h("button", {
        type: "button", class: "task-button", "aria-pressed": String(t.task_id === selected), "data-focus-key": t.task_id,
        onclick: () => select(t.task_id, "user", true),
      }, h("span", { class: "mono" }, t.task_id), ` ${t.name} — ${STATE_WORDS[stateOf(t.task_id)] ?? stateOf(t.task_id)}`)))));
  }

  function renderFinal() {
    const current = status();
    const text = run?.final_output;
    finalSection.hidden = !text && !TERMINAL.has(current);
    if (finalSection.hidden) {
      return;
    }
    finalBody.replaceChildren(text ? renderMarkdown(text) : h("p", { class: "hint" },
      current === "completed" ? "The run completed without a final output." : `No final output: the run ${STATUS_WORDS[current] ?? current}.`));
  }

  function renderDetail() {
    const task = selected ? run?.subtasks?.[selected] : null;
    const state = task ? stateOf(task.task_id) : null;
    // Drawn anew only when what it shows changes, so an answer being typed is not wiped by an unrelated event.
    const key = JSON.stringify([task, state, TERMINAL.has(status())]);
    if (key === detailKey) {
      return;
    }
    detailKey = key;
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
      task.output ? [
        h("h3", {}, state === "waiting_human" && task.kind !== "human" ? "Draft" : task.kind === "human" ? "Your answer" : "Output"),
        // A long output scrolls in its box, which takes the focus so a keyboard can scroll it.
        h("div", { class: "markdown output", tabindex: 0, role: "region", "aria-label": `Output of ${task.task_id}` }, renderMarkdown(task.output)),
      ] : null,
      state === "waiting_human" && !TERMINAL.has(status()) ? (task.kind === "human" ? answerForm(task) : reviewForms(task)) : null]);
  }

  function sent(form, message) {
    for (const control of form.querySelectorAll("button, textarea, input")) {
      control.disabled = true;
    }
    message.textContent = "Sent. The run goes on.";
    selectedBy = "answered";
  }

  async function complete(task, body, form, message, onFieldErrors) {
    message.textContent = "Sending…";
    try {
      await post(runPath(runId, `/tasks/${encodeURIComponent(task.task_id)}/complete`), body, { signal });
      sent(form, message);
      scheduleRefetch();
    } catch (error) {
      if (error.name === "AbortError") {
        return;
      }
      if (error instanceof ApiError && error.status === 422) {
        onFieldErrors(error.errors);
        message.textContent = "Not sent: see the message above.";
      } else if (error instanceof ApiError && error.status === 409) {
        message.textContent = `Not sent: ${error.message}`;
        scheduleRefetch();
      } else {
        message.textContent = `Not sent: ${error.message}`;
      }
      for (const control of form.querySelectorAll("button, textarea, input")) {
        control.disabled = false;
      }
    }
  }

  function answerForm(task) {
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
        complete(task, { output: answer.control.value }, form, message, (errors) => showFieldErrors(answer, errors.output ?? Object.values(errors).flat()));
      },
    }, h("h3", {}, "Your answer"), answer.element, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Submit answer")), message);
    return form;
  }

  function reviewForms(task) {
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
          complete(task, { approved: true }, box, message, () => {});
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
            complete(task, { output: edited.control.value }, box, message, (errors) => showFieldErrors(edited, errors.output ?? Object.values(errors).flat()));
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
          complete(task, { approved: false, feedback: feedback.control.value }, box, message, (errors) => showFieldErrors(feedback, errors.feedback ?? Object.values(errors).flat()));
        },
      }, feedback.element, h("div", { class: "actions" }, h("button", { type: "submit", class: "danger-outline" }, "Reject"))),
      message);
    return box;
  }

  (async () => {
    try {
      await loadRun();
      await loadEvents();
      followWaiting();
      renderAll();
      timelineBox.scrollTop = timelineBox.scrollHeight;
      follow();
    } catch (error) {
      if (error.name === "AbortError") {
        return;
      }
      main.replaceChildren(h("h1", { tabindex: -1 }, "Run not shown"),
        h("p", {}, error instanceof ApiError && error.status === 404 ? `There is no run ${runId} in this account.` : `Could not load the run: ${error.message}`),
        h("p", {}, h("a", { href: "#/runs" }, "Back to the runs")));
      main.querySelector("h1").focus();
    }
  })();

  return () => {
    controller.abort();
    clearTimeout(refetchTimer);
  };
}

/** Rebuilds part of the page and puts the focus back on the control that had it (same data-focus-key), if any. */
function keepingFocus(container, rebuild) {
  const focused = container.contains(document.activeElement) ? document.activeElement.getAttribute("data-focus-key") : null;
  rebuild();
  if (focused) {
    container.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
  }
}

function usage(u) {
  if (!u) {
    return "—";
  }
  return `${u.input_tokens.toLocaleString()} tokens in, ${u.output_tokens.toLocaleString()} out`;
}

function legend() {
  const entries = ["pending", "running", "waiting_human", "completed", "failed", "cancelled"];
  return h("ul", { class: "legend", "aria-label": "What the colours and icons mean" },
    entries.map((state) => h("li", { "data-state": state }, h("span", { class: "swatch", "aria-hidden": "true" }), STATE_WORDS[state])),
    h("li", { class: "legend-shape" }, h("span", { class: "swatch hex", "aria-hidden": "true" }), "task for you"),
    h("li", { class: "legend-shape" }, h("span", { class: "swatch box", "aria-hidden": "true" }), "agent task"));
}
