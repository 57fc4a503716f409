// A run's live event stream. EventSource cannot send X-API-Key, so the stream is read with fetch() and parsed here,
// following the Server-Sent Events format: a dropped stream is opened again with Last-Event-ID, so every event
// arrives once and in order; Retry-After is honoured; a stream silent for three heartbeats is taken for dead.

import { API_BASE, apiKey, retryAfter, runPath } from "./api.js";
import { sleep } from "./dom.js";

/**
 * Parses the text/event-stream format incrementally: push() any chunk of text, and onEvent receives
 * { id, type, data } for each complete event, onComment each comment line (": ping").
 */
export class SseParser {
  constructor(onEvent, onComment = () => {}) {
    this.onEvent = onEvent;
    this.onComment = onComment;
    this.buffer = "";
    this.data = [];
    this.type = "";
    this.lastId = null;
    this.retry = null;
  }

  push(chunk) {
    this.buffer += chunk;
    // A trailing CR may be the first half of CRLF: keep it until the next chunk says.
    let start = 0;
    for (let i = 0; i < this.buffer.length; i += 1) {
      const c = this.buffer[i];
      if (c !== "\n" && c !== "\r") {
        continue;
      }
      if (c === "\r" && i === this.buffer.length - 1) {
        break;
      }
      this.line(this.buffer.slice(start, i));
      if (c === "\r" && this.buffer[i + 1] === "\n") {
        i += 1;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  line(text) {
    if (text === "") {
      this.dispatch();
      return;
    }
    if (text.startsWith(":")) {
      this.onComment(text.slice(1).trim());
      return;
    }
    const colon = text.indexOf(":");
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) {
      value = value.slice(1);
    }
    if (name === "data") {
      this.data.push(value);
    } else if (name === "event") {
      this.type = value;
    } else if (name === "id" && !value.includes("\0")) {
      this.lastId = value;
    } else if (name === "retry" && /^\d+$/.test(value)) {
      this.retry = Number(value);
    }
  }

  dispatch() {
    if (this.data.length > 0) {
      this.onEvent({ id: this.lastId, type: this.type || "message", data: this.data.join("\n") });
    }
    this.data = [];
    this.type = "";
  }
}

const OUTPUT_DELTA = "task.output.delta";

const TERMINAL = new Set(["run.completed", "run.failed", "run.cancelled"]);

/** How long a stream may stay silent before it is taken for dead: three heartbeats of 15 s. */
export const SILENCE_MS = 45_000;

/**
 * Follows a run's log from after the event numbered `after` until the run ends or `signal` aborts.
 * onEvent gets each event object of the API, onDelta each piece of text a task writes (task.output.delta, which has
 * no id and is no event of the log: see live-output.js); onStatus gets "connecting", "live", "reconnecting" (with the delay
 * in ms), "waiting" (rate limited, with seconds), "ended" or "error" (with the message).
 */
export async function followRun(runId, { after, onEvent, onDelta = () => {}, onStatus = () => {}, signal }) {
  let lastId = after ?? 0;
  let delay = 1000;
  while (!signal.aborted) {
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener("abort", stop, { once: true });
    let heard = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - heard > SILENCE_MS) {
        attempt.abort();
      }
    }, 5000);
    let ended = false;
    try {
      onStatus("connecting");
      const response = await fetch(API_BASE + runPath(runId, "/events"), {
        headers: { Accept: "text/event-stream", "X-API-Key": apiKey() ?? "", "Last-Event-ID": String(lastId) },
        signal: attempt.signal,
        cache: "no-store",
        credentials: "omit",
      });
      if (response.status === 204) {
        // The run has ended and nothing is left to send.
        onStatus("ended");
        return;
      }
      if (response.status === 429) {
        const wait = retryAfter(response);
        onStatus("waiting", wait);
        await sleep(wait * 1000, signal);
        continue;
      }
      if (response.status === 401 || response.status === 404) {
        onStatus("error", response.status === 401 ? "The API key was refused." : "This run was not found.");
        return;
      }
      if (!response.ok || !response.body) {
        throw new Error(`The event stream answered ${response.status}.`);
      }
      onStatus("live");
      delay = 1000;
      const parser = new SseParser(
        (item) => {
          heard = Date.now();
          if (item.type === OUTPUT_DELTA) {
            onDelta(JSON.parse(item.data));
            return;
          }
          const event = JSON.parse(item.data);
          lastId = event.sequence;
          onEvent(event);
          ended ||= TERMINAL.has(event.type);
        },
        () => {
          heard = Date.now();
        },
      );
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          break;
        }
        heard = Date.now();
        parser.push(value);
      }
      if (ended) {
        onStatus("ended");
        return;
      }
    } catch (error) {
      if (signal.aborted) {
        return;
      }
      if (error instanceof SyntaxError) {
        onStatus("error", "The event stream sent something that is not an event.");
        return;
      }
    } finally {
      clearInterval(watchdog);
      signal.removeEventListener("abort", stop);
    }
    // Cut off (a restart, a proxy, a network change): open it again from the last event seen.
    const wait = delay + Math.random() * 250;
    onStatus("reconnecting", wait);
    await sleep(wait, signal);
    delay = Math.min(delay * 2, 15_000);
  }
}
