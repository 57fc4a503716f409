// The Orchflow API as the console calls it: the same routes and headers any client uses. The key lives in this tab's
// sessionStorage only: it is sent as X-API-Key and never put in a URL, a cookie or a log.

import { sleep } from "./dom.js";

export const API_BASE = "/api/v1";

const KEY_ITEM = "orchflow.api_key";

export function apiKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

export function rememberKey(key) {
  sessionStorage.setItem(KEY_ITEM, key.trim());
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_ITEM);
}

/** An answer that was not 2xx or 304, with the problem details the API sends. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `Orchflow answered ${status}.`);
    this.status = status;
    this.code = problem?.code ?? null;
    this.errors = problem?.errors ?? {};
  }
}

const listeners = { unauthorized: [], waiting: [] };

/** Subscribes to "unauthorized" (the key was refused) or "waiting" (rate limited: seconds until the retry). */
export function on(event, callback) {
  listeners[event].push(callback);
}

function emit(event, value) {
  for (const callback of listeners[event]) {
    callback(value);
  }
}

/** Seconds the server asked to wait (Retry-After), at least one. */
export function retryAfter(response) {
  const seconds = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 1;
}

export function headers(extra = {}) {
  const key = apiKey();
  return { Accept: "application/json", ...(key ? { "X-API-Key": key } : {}), ...extra };
}

/**
 * One API call. A 429 is waited out as long as Retry-After says and sent again: the request was refused before
 * anything was done, so even a POST is safe to repeat (and carries an Idempotency-Key besides).
 * Resolves to { status, body, etag, location }; a 304 has no body.
 */
export async function call(method, path, { body, etag, signal, idempotencyKey } = {}) {
  const extra = {};
  if (body !== undefined) {
    extra["Content-Type"] = "application/json";
  }
  if (etag) {
    extra["If-None-Match"] = etag;
  }
  if (idempotencyKey) {
    extra["Idempotency-Key"] = idempotencyKey;
  }
  for (let attempt = 0; ; attempt += 1) {
    const response = await fetch(API_BASE + path, {
      method,
      headers: headers(extra),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      // The console keeps its own ETags and sends If-None-Match itself; the browser's cache stays out of it.
      cache: "no-store",
      credentials: "omit",
    });
    if (response.status === 429 && attempt < 10) {
      const wait = retryAfter(response);
      emit("waiting", wait);
      await sleep(wait * 1000, signal);
      if (signal?.aborted) {
        throw new DOMException("Aborted", "AbortError");
      }
      continue;
    }
    if (response.status === 304) {
      return { status: 304, body: null, etag };
    }
    const text = await response.text();
    let json = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = { detail: `Orchflow answered ${response.status} with a body that is not JSON.` };
      }
    }
    if (response.status === 401) {
      emit("unauthorized", json?.detail);
    }
    if (!response.ok) {
      throw new ApiError(response.status, json);
    }
    return { status: response.status, body: json, etag: response.headers.get("ETag"), location: response.headers.get("Location") };
  }
}

export const get = (path, options) => call("GET", path, options);

/** A random Idempotency-Key (getRandomValues works on plain http too, where randomUUID does not). */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "console-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function post(path, body, options = {}) {
  return call("POST", path, { ...options, body, idempotencyKey: options.idempotencyKey ?? newIdempotencyKey() });
}

export const del = (path, options) => call("DELETE", path, options);

export function runPath(runId, rest = "") {
  return `/runs/${encodeURIComponent(runId)}${rest}`;
}
