// The text tasks are writing, as they write it. The run's event stream carries task.output.delta items between its
// events: { task_id, offset, text }, where offset is the character position of text in that task's text (task_id null
// for the synthesis, the final output as it is written). Offset 0 again means the task writes anew, so its text is
// replaced. A task's text shows in its details while it runs (its finished paragraphs formatted as its output will be),
// and its node on the graph says it is writing; once the task is done, its output in the run is the text to keep, and
// the live text is dropped.

import { h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

/** The synthesis has no task id: its text is kept under this key. */
const FINAL = "";

/** Log events after which a task no longer writes: its output (or its draft) in the run is what to show. */
const DONE_WRITING = new Set(["task.completed", "task.failed", "task.cancelled", "task.waiting_human"]);

export class LiveTexts {
  /**
   * `onWriting` hears the ids of the tasks writing whenever a text starts or is dropped (not at every piece), the
   * final output's included.
   */
  constructor(onWriting = () => {}) {
    this.texts = new Map();
    this.views = new Map();
    this.onWriting = onWriting;
  }

  /** Takes one task.output.delta item; false for one that cannot be placed (a piece missed before it). */
  apply(delta) {
    const { offset, text } = delta ?? {};
    if (!Number.isInteger(offset) || offset < 0 || typeof text !== "string") {
      return false;
    }
    const key = delta.task_id ?? FINAL;
    const started = !this.texts.has(key);
    const current = this.texts.get(key) ?? "";
    if (offset > current.length) {
      // A gap: what came between is not here. The task's output shows whole once it is done.
      return false;
    }
    const next = current.slice(0, offset) + text;
    this.texts.set(key, next);
    // The text so far, sent again on reconnecting, usually starts with what is shown: then only the rest is added.
    const replace = started || !next.startsWith(current);
    this.views.get(key)?.show(next, replace ? "" : next.slice(current.length), replace);
    if (started) {
      this.onWriting(this.writing());
    }
    return true;
  }

  /** Follows the run's log: a task that stopped writing has its text dropped. */
  follow(event) {
    if (event.task_id && DONE_WRITING.has(event.type)) {
      this.forget(event.task_id);
    }
  }

  /**
   * Drops a task's text (null: the final output's) once the run holds what it wrote. What shows stays until the view
   * is drawn anew with the output, so nothing blinks; text written anew after this replaces it.
   */
  forget(taskId) {
    if (this.texts.delete(taskId ?? FINAL)) {
      this.onWriting(this.writing());
    }
  }

  /** The ids of the tasks whose text is arriving (not the final output's: see writingFinal). */
  writing() {
    return new Set([...this.texts.keys()].filter((key) => key !== FINAL));
  }

  /** Whether the synthesis is writing the final output. */
  writingFinal() {
    return this.texts.has(FINAL);
  }

  /**
   * A section showing a task's live text (`taskId` null for the final output) as it grows, hidden while there is none;
   * the one made last for a task is the one kept up to date.
   */
  view(taskId, { heading, label }) {
    const key = taskId ?? FINAL;
    const text = this.texts.get(key) ?? "";
    // Paragraphs already written show as they will once done (Markdown, drawn again only when one more ends); the one
    // being written grows at the end as plain text, a piece at a time, so nothing above it moves.
    const done = h("div", { class: "markdown" });
    const writing = h("p", { class: "live-tail" });
    // Scrolls in its box, so it takes the focus for a keyboard; not a live region: a screen reader is not read every word.
    const box = h("div", { class: "live-text output", tabindex: 0, role: "region", "aria-label": label }, done, writing);
    const section = h("section", { class: "live-output", "data-live-task": key },
      heading ? h("h3", {}, h("span", { class: "writing-mark", "aria-hidden": "true" }), heading) : null, box);
    let cut = 0;
    const show = (whole, more, replace) => {
      // Kept at the end while the reader is at the end, so new words come into sight; left alone when they scrolled up.
      const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
      const ended = paragraphsEnd(whole);
      if (replace || ended !== cut) {
        done.replaceChildren(renderMarkdown(whole.slice(0, ended)));
        writing.textContent = whole.slice(ended);
        cut = ended;
      } else if (more) {
        writing.append(more);
      }
      box.setAttribute("data-length", String(whole.length));
      section.hidden = whole.length === 0;
      if (atEnd) {
        box.scrollTop = box.scrollHeight;
      }
    };
    show(text, "", true);
    this.views.set(key, { show });
    return section;
  }
}

/** Where the paragraphs a text has finished end: after its last blank line (0 while the first is being written). */
function paragraphsEnd(text) {
  const end = text.lastIndexOf("\n\n");
  return end < 0 ? 0 : end + 2;
}
