// One run: its status, what it waits on, the task graph, the chosen task's details and forms, the final output and
// the event timeline. States come from the run's event log (replayed, then live over SSE; run-log.js); the run itself
// is read again after events for what they do not carry (outputs, prompts, usage, timing), with its ETag so an
// unchanged run costs a 304.

import { ApiError, call, del, get, newIdempotencyKey, runPath } from "./api.js";
import { append, byTaskId, clear, clockTime, h, timeAgo, usage } from "./dom.js";
import { STATE_WORDS, TaskGraph, legend } from "./graph.js";
import { LiveTexts } from "./live-output.js";
import { renderMarkdown } from "./markdown.js";
import { planReview } from "./plan-review.js";
import { RunLog, TERMINAL, describe } from "./run-log.js";
import { STATUS_WORDS, needsYouBadge, statusBadge } from "./runs.js";
import { followRun } from "./stream.js";
import { showTask } from "./task-detail.js";

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
  const log = new RunLog();
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
  // Focusable and named, so a keyboard can scroll a graph wider than the window.
  const graphBox = h("div", { class: "graph-scroll", tabindex: 0, role: "region", "aria-label": "Graph of the tasks", "aria-describedby": "graph-scroll-cue" });
  const graphWaiting = h("p", { class: "hint", hidden: true });
  const graphCue = h("p", { class: "hint scroll-cue", id: "graph-scroll-cue", hidden: true },
    "The graph is wider than the window: scroll it sideways to see every task, or open the tasks as a list below it.");
  const taskList = h("ol", { class: "task-list", "aria-label": "Tasks" });
  const finalBody = h("div", { class: "markdown" });
  const finalSection = h("section", { class: "final card", "aria-labelledby": "final-heading", hidden: true },
    h("h2", { id: "final-heading" }, "Final output"), finalBody);
  const detail = h("section", { class: "detail card", "aria-labelledby": "detail-heading" });
  const timeline = h("ol", { class: "timeline" });
  const timelineBox = h("div", { class: "timeline-scroll", role: "region", tabindex: 0, "aria-label": "Events, oldest first" }, timeline);

  const graph = new TaskGraph(graphBox, {
    onSelect: (taskId) => select(taskId, "user", true),
    cue: graphCue,
  });
  // The text tasks and the synthesis are writing, from the event stream: the graph says who writes.
  const texts = new LiveTexts((writing) => {
    graph.setWriting(writing);
    renderFinal();
  });
  const finalLive = texts.view(null, { heading: "Being written", label: "The deliverable as it is written" });
  finalSection.append(finalLive);

  main.append(
    h("div", { class: "view-head" }, h("div", { class: "title" }, heading, statusSlot), actions),
    goal, runError, meta, live, needs,
    h("section", { class: "graph card", "aria-labelledby": "graph-heading" },
      h("h2", { id: "graph-heading" }, "Task graph"),
      legend(),
      graphWaiting,
      graphCue,
      graphBox,
      h("details", { class: "task-list-box" }, h("summary", {}, "Tasks as a list"), taskList)),
    // The chosen task right under the graph: a long final output below it never pushes it out of sight.
    h("div", { class: "columns" },
      detail,
      h("section", { class: "events card", "aria-labelledby": "events-heading" },
        h("h2", { id: "events-heading" }, "Events"), timelineBox)),
    finalSection);

  const tasks = () => Object.values(run?.subtasks ?? {}).sort((a, b) => byTaskId(a.task_id, b.task_id));
  const stateOf = (taskId) => log.states.get(taskId) ?? run?.subtasks?.[taskId]?.state ?? "pending";
  const status = () => log.status ?? run?.status ?? "queued";
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
    const changed = log.apply(event);
    if (!changed) {
      return false;
    }
    if (!replaying && changed.taskState === "waiting_human") {
      announce(`${event.task_id} waits for you.`);
    }
    if (!replaying && changed.runStatus) {
      announce(`The run is ${STATUS_WORDS[changed.runStatus] ?? changed.runStatus}.`);
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
    texts.follow(event);
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
      const { body } = await get(runPath(runId, `/events?after=${log.lastSequence}&limit=1000`), { signal });
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
      after: log.lastSequence,
      signal,
      onEvent: onLiveEvent,
      onDelta: (delta) => texts.apply(delta),
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
      run.ask_me_about?.length ? `asks you about ${run.ask_me_about.map((a) => (typeof a === "string" ? a : a.title ?? a.name)).join(", ")}` : null,
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
      ...(run.events?.length ? item("Plan", run.events.map((e) => e.message).join(" ")) : []),
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
      needs.append(planReview(tasks(), { runId, signal, refetch: scheduleRefetch }));
    }
    if (waiting.length > 0) {
      needs.append(h("ul", { class: "waiting-list" }, waiting.map((t) => h("li", {},
        h("button", {
          type: "button", class: "link-button", "data-focus-key": t.task_id,
          onclick: () => select(t.task_id, "user", true),
        }, `${t.kind === "human" ? "Answer" : t.pending_tool_call ? "Approve or refuse a tool call of" : "Review the draft of"} ${t.task_id}: ${t.name}`)))));
    }
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
    if (text || TERMINAL.has(current)) {
      texts.forget(null);
    }
    const writing = texts.writingFinal();
    finalSection.hidden = !text && !TERMINAL.has(current) && !writing;
    finalLive.hidden = !writing;
    if (finalSection.hidden || writing) {
      finalBody.replaceChildren();
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
    showTask(detail, task, state, {
      open: !TERMINAL.has(status()), live: texts, runId, signal, refetch: scheduleRefetch,
      onSent: () => {
        selectedBy = "answered";
      },
    });
  }

  (async () => {
    try {
      // The log first, then the run: a run read before the log could miss the log's last change, and no later event
      // would come to have it read again (a plan that waits for review, say, would show no review).
      await loadEvents();
      await loadRun();
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
