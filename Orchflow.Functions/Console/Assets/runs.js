// The account's runs, newest first, a page at a time; refreshed every few seconds while the tab is visible.

import { get } from "./api.js";
import { h, timeAgo } from "./dom.js";

export const PAGE_SIZE = 10;
const REFRESH_MS = 5000;

export const STATUS_WORDS = {
  queued: "queued",
  planning: "planning",
  running: "running",
  waiting_human: "waiting for you",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
};

export function statusBadge(status) {
  return h("span", { class: `badge status-${status}`, "data-status": status }, STATUS_WORDS[status] ?? status);
}

export function needsYouBadge() {
  return h("span", { class: "badge needs-you" }, "Needs you");
}

export function runsView({ main }, offset) {
  const controller = new AbortController();
  const list = h("ol", { class: "run-list", "aria-label": "Runs, newest first" });
  const summary = h("p", { class: "page-summary" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages of runs" });
  const status = h("p", { class: "form-status", role: "status" });
  let timer = null;

  main.append(
    h("div", { class: "view-head" },
      h("h1", { tabindex: -1 }, "Runs"),
      h("a", { class: "button primary", href: "#/new" }, "New run")),
    summary, status, list, pager);

  async function load() {
    if (document.hidden) {
      // A hidden tab asks nothing; it looks again when the timer next fires.
      timer = setTimeout(load, REFRESH_MS);
      return;
    }
    try {
      const { body } = await get(`/runs?limit=${PAGE_SIZE}&offset=${offset}`, { signal: controller.signal });
      status.textContent = "";
      show(body);
    } catch (error) {
      if (error.name !== "AbortError") {
        status.textContent = `Could not load the runs: ${error.message}`;
      }
    } finally {
      if (!controller.signal.aborted) {
        timer = setTimeout(load, REFRESH_MS);
      }
    }
  }

  function show({ runs, total }) {
    const first = total === 0 ? 0 : offset + 1;
    const last = offset + runs.length;
    summary.textContent = total === 0 ? "" : `Runs ${first}–${last} of ${total}.`;
    list.replaceChildren();
    if (runs.length === 0) {
      list.append(h("li", { class: "empty" }, offset > 0 ? "No runs on this page." : "No runs yet. ",
        offset > 0 ? null : h("a", { href: "#/new" }, "Start your first run")));
    }
    for (const run of runs) {
      list.append(h("li", { class: `run-item${run.status === "waiting_human" ? " waiting" : ""}` },
        h("a", { class: "run-link", href: `#/runs/${encodeURIComponent(run.run_id)}` },
          h("span", { class: "run-task" }, run.task)),
        h("div", { class: "run-meta" },
          statusBadge(run.status),
          run.status === "waiting_human" ? needsYouBadge() : null,
          h("span", { class: "run-age" }, "started ", timeAgo(run.created_at)),
          h("span", { class: "run-id mono" }, run.run_id))));
    }
    pager.replaceChildren();
    if (offset > 0) {
      pager.append(h("a", { class: "button", href: `#/runs?offset=${Math.max(0, offset - PAGE_SIZE)}`, rel: "prev" }, "Newer runs"));
    }
    if (last < total) {
      pager.append(h("a", { class: "button", href: `#/runs?offset=${offset + PAGE_SIZE}`, rel: "next" }, "Older runs"));
    }
  }

  load();
  return () => {
    controller.abort();
    clearTimeout(timer);
  };
}
