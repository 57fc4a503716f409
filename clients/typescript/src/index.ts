// Orchflow's TypeScript client: the types are generated from the OpenAPI document (src/schema.d.ts, `npm run
// generate`); this file is the small fetch wrapper around them, and a run's events as an async iterator.
import type { components } from "./schema.js";

type Schemas = components["schemas"];
export type Run = Schemas["Run"];
export type RunTask = Schemas["Task"];
export type RunList = Schemas["RunList"];
export type TaskList = Schemas["TaskList"];
export type RunEvent = Schemas["RunEvent"];
export type RunEventPage = Schemas["RunEventPage"];
export type Problem = Schemas["Problem"];
export type Account = Schemas["Account"];
export type AccountView = Schemas["AccountView"];
export type StartRunRequest = Schemas["StartRunRequest"];
export type CompleteTaskRequest = Schemas["CompleteTaskRequest"];
export type ReviewPlanRequest = Schemas["ReviewPlanRequest"];
export type ApiKey = Schemas["ApiKey"];
export type CreatedKey = Schemas["CreatedKey"];
export type Provider = Schemas["Provider"];
export type CreateProviderRequest = Schemas["CreateProviderRequest"];
export type Webhook = Schemas["Webhook"];
export type WebhookWithSecret = Schemas["WebhookWithSecret"];
export type WebhookCreateRequest = Schemas["WebhookCreateRequest"];
export type WebhookDelivery = Schemas["WebhookDelivery"];
export type WebhookRotatedSecret = Schemas["WebhookRotatedSecret"];
export type ToolServer = Schemas["ToolServer"];
export type CreateToolServerRequest = Schemas["CreateToolServerRequest"];
export type AgentTemplate = Schemas["AgentTemplate"];
export type Health = Schemas["Health"];
export type { components, paths } from "./schema.js";

/** Run statuses that end a run. */
export const endedStatuses: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

/** Every error answer: its HTTP status and the RFC 9457 problem details Orchflow sent. */
export class OrchflowProblemError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(`${status} ${problem.code}: ${problem.detail}`);
    this.name = "OrchflowProblemError";
  }

  /** The problem's stable code (`not_found`, `validation_failed`…): branch on this. */
  get code(): string {
    return this.problem.code;
  }
}

export interface OrchflowClientOptions {
  /** The API key, sent as `X-API-Key`; leave it out for the public routes. */
  apiKey?: string;
  /** Retries after a 429 or 503 (after `Retry-After`), a 502/504, a 409 `idempotency_in_progress` or a failed connection. */
  maxRetries?: number;
  /** The longest wait between two tries, in milliseconds. */
  maxRetryDelayMs?: number;
  /** The fetch to use (the global one by default). */
  fetch?: typeof fetch;
}

/** A client of the Orchflow API at `baseUrl` (such as `http://127.0.0.1:7071/api/v1`). */
export class OrchflowClient {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #maxRetries: number;
  readonly #maxRetryDelayMs: number;
  readonly #fetch: typeof fetch;

  constructor(baseUrl: string, options: OrchflowClientOptions = {}) {
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
    this.#apiKey = options.apiKey;
    this.#maxRetries = options.maxRetries ?? 4;
    this.#maxRetryDelayMs = options.maxRetryDelayMs ?? 60_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** Registers an account; its API key is in the answer, this once. */
  static register(baseUrl: string, body: Schemas["RegisterRequest"], options: Omit<OrchflowClientOptions, "apiKey"> = {}): Promise<Account> {
    return new OrchflowClient(baseUrl, options).#send<Account>("POST", "auth/register", body);
  }

  getAccount = () => this.#send<AccountView>("GET", "account");
  /** Starts a run: it returns at once, queued, and plans in the background. */
  startRun = (body: StartRunRequest, idempotencyKey?: string) => this.#send<Run>("POST", "runs", body, idempotencyKey);
  listRuns = (limit = 20, offset = 0) => this.#send<RunList>("GET", `runs?limit=${limit}&offset=${offset}`);
  getRun = (runId: string) => this.#send<Run>("GET", `runs/${enc(runId)}`);
  getRunTasks = (runId: string) => this.#send<TaskList>("GET", `runs/${enc(runId)}/tasks`);
  cancelRun = (runId: string) => this.#send<Run>("DELETE", `runs/${enc(runId)}`);
  retryRun = (runId: string, idempotencyKey?: string) => this.#send<Run>("POST", `runs/${enc(runId)}/retry`, undefined, idempotencyKey);
  /** Answers a waiting task: `{output}`, `{approved: true}` or `{approved: false, feedback}`. */
  completeTask = (runId: string, taskId: string, body: CompleteTaskRequest, idempotencyKey?: string) =>
    this.#send<RunTask>("POST", `runs/${enc(runId)}/tasks/${enc(taskId)}/complete`, body, idempotencyKey);
  reviewPlan = (runId: string, body: ReviewPlanRequest, idempotencyKey?: string) =>
    this.#send<Run>("POST", `runs/${enc(runId)}/plan/review`, body, idempotencyKey);
  getRunEvents = (runId: string, after = 0, limit = 100) =>
    this.#send<RunEventPage>("GET", `runs/${enc(runId)}/events?after=${after}&limit=${limit}`);
  /** Closes the account: its keys stop working, its runs are cancelled, and everything it owns is erased. */
  closeAccount = () => this.#send<void>("DELETE", "account");
  /** Issues another API key; the key is in the answer, this once. */
  createKey = (label: string) => this.#send<CreatedKey>("POST", "auth/keys", { label });
  listKeys = async () => (await this.#send<Schemas["ApiKeyList"]>("GET", "auth/keys")).keys;
  /** Revokes a key (never the account's last); every instance refuses it within 5 seconds. */
  revokeKey = (keyId: string) => this.#send<void>("DELETE", `auth/keys/${enc(keyId)}`);
  /** Cancels the run if it is still going and erases it: from then on it answers 404. */
  purgeRun = (runId: string) => this.#send<void>("DELETE", `runs/${enc(runId)}?purge=true`);
  createProvider = (body: CreateProviderRequest, idempotencyKey?: string) => this.#send<Provider>("POST", "providers", body, idempotencyKey);
  listProviders = async () => (await this.#send<Schemas["ProviderList"]>("GET", "providers")).providers;
  deleteProvider = (providerId: string) => this.#send<void>("DELETE", `providers/${enc(providerId)}`);
  listAgentTemplates = async () => (await this.#send<Schemas["AgentTemplateList"]>("GET", "agents/templates")).agents;
  getHealth = () => this.#send<Health>("GET", "health");
  createWebhook = (body: WebhookCreateRequest, idempotencyKey?: string) =>
    this.#send<WebhookWithSecret>("POST", "webhooks", body, idempotencyKey);
  listWebhooks = async () => (await this.#send<Schemas["WebhookList"]>("GET", "webhooks")).webhooks;
  deleteWebhook = (webhookId: string) => this.#send<void>("DELETE", `webhooks/${enc(webhookId)}`);
  rotateWebhookSecret = (webhookId: string) => this.#send<WebhookRotatedSecret>("POST", `webhooks/${enc(webhookId)}/rotate-secret`);
  listWebhookDeliveries = async (webhookId: string, limit = 20) =>
    (await this.#send<Schemas["WebhookDeliveryList"]>("GET", `webhooks/${enc(webhookId)}/deliveries?limit=${limit}`)).deliveries;
  createToolServer = (body: CreateToolServerRequest, idempotencyKey?: string) =>
    this.#send<ToolServer>("POST", "tool-servers", body, idempotencyKey);
  listToolServers = async () => (await this.#send<Schemas["ToolServerList"]>("GET", "tool-servers")).tool_servers;
  getToolServer = (serverId: string) => this.#send<ToolServer>("GET", `tool-servers/${enc(serverId)}`);
  refreshToolServer = (serverId: string) => this.#send<ToolServer>("POST", `tool-servers/${enc(serverId)}/refresh`);
  deleteToolServer = (serverId: string) => this.#send<void>("DELETE", `tool-servers/${enc(serverId)}`);

  /**
   * A run's events as they happen, each once and in order, until the event that ends the run. A cut connection is
   * made again with `Last-Event-ID`, after the `Retry-After` a 429 or 503 asks for.
   */
  async *streamEvents(runId: string, after = 0, signal?: AbortSignal): AsyncGenerator<RunEvent> {
    let last = after;
    let failures = 0;
    for (;;) {
      const headers: Record<string, string> = { Accept: "text/event-stream", ...this.#keyHeader() };
      if (last > 0) headers["Last-Event-ID"] = String(last);
      let response: Response;
      try {
        response = await this.#fetch(this.baseUrl + `runs/${enc(runId)}/events?output=false`, { headers, signal });
      } catch (error) {
        if (signal?.aborted || failures >= this.#maxRetries) throw error;
        await sleep(this.#backoff(failures++));
        continue;
      }
      if (response.status === 204) return; // The run has ended and nothing is after `last`.
      if (!response.ok) {
        const problem = await problemOf(response);
        if (failures < this.#maxRetries && retryable(problem)) {
          await sleep(this.#retryDelay(response, failures++));
          continue;
        }
        throw problem;
      }
      try {
        for await (const item of serverSentEvents(response.body!)) {
          if (item.event === "task.output.delta" || !item.data) continue;
          const event = JSON.parse(item.data) as RunEvent;
          if (event.sequence <= last) continue;
          last = event.sequence;
          failures = 0;
          yield event;
          if (endedStatuses.has(event.type.replace(/^run\./, "")) && event.type.startsWith("run.")) return;
        }
      } catch (error) {
        if (signal?.aborted) throw error;
        // Cut: connect again from the last event given.
      }
      if (failures >= this.#maxRetries) throw new Error(`The event stream of ${runId} closed ${failures} times without a new event.`);
      await sleep(this.#backoff(failures++));
    }
  }

  /** Waits on the event stream until the run is in one of `statuses`, and returns it then. */
  async waitForStatus(runId: string, statuses: readonly string[], signal?: AbortSignal): Promise<Run> {
    let run = await this.getRun(runId);
    if (statuses.includes(run.status)) return run;
    for await (const event of this.streamEvents(runId, 0, signal)) {
      if (event.type.startsWith("run.") && statuses.includes(event.type.slice(4))) {
        run = await this.getRun(runId);
        if (statuses.includes(run.status)) return run;
      }
    }
    run = await this.getRun(runId);
    if (statuses.includes(run.status)) return run;
    throw new Error(`Run ${runId} ended ${run.status}, not ${statuses.join(" or ")}.`);
  }

  async #send<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    const key = method === "POST" ? (idempotencyKey ?? crypto.randomUUID()) : undefined;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...this.#keyHeader() };
      if (key) headers["Idempotency-Key"] = key;
      if (body !== undefined) headers["Content-Type"] = "application/json";
      let response: Response;
      try {
        response = await this.#fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      } catch (error) {
        if (attempt >= this.#maxRetries) throw error;
        await sleep(this.#backoff(attempt));
        continue;
      }
      if (response.ok) {
        // 204 and the 202 of an erasure carry no body.
        const text = await response.text();
        return (text ? JSON.parse(text) : undefined) as T;
      }
      const problem = await problemOf(response);
      if (attempt < this.#maxRetries && retryable(problem)) {
        await sleep(this.#retryDelay(response, attempt));
        continue;
      }
      throw problem;
    }
  }

  #keyHeader(): Record<string, string> {
    return this.#apiKey ? { "X-API-Key": this.#apiKey } : {};
  }

  #backoff(attempt: number): number {
    return Math.min(500 * 2 ** Math.min(attempt, 10), this.#maxRetryDelayMs);
  }

  #retryDelay(response: Response, attempt: number): number {
    const seconds = Number(response.headers.get("Retry-After"));
    return Number.isFinite(seconds) && seconds >= 0 && response.headers.has("Retry-After")
      ? Math.min(seconds * 1000, this.#maxRetryDelayMs)
      : this.#backoff(attempt);
  }
}

const enc = encodeURIComponent;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function retryable(problem: OrchflowProblemError): boolean {
  return [429, 502, 503, 504].includes(problem.status) || (problem.status === 409 && problem.code === "idempotency_in_progress");
}

async function problemOf(response: Response): Promise<OrchflowProblemError> {
  const text = await response.text();
  try {
    const problem = JSON.parse(text) as Problem;
    if (typeof problem.code === "string") return new OrchflowProblemError(response.status, problem);
  } catch {
    // Not problem details (a proxy's page): described from the status below.
  }
  return new OrchflowProblemError(response.status, {
    type: "about:blank", title: response.statusText, status: response.status, detail: text.slice(0, 500),
    code: `http_${response.status}` as Problem["code"],
  });
}

/** The items of a `text/event-stream` body: each with its `event`, `id` and `data` fields. */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event?: string; id?: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = "";
  let item: { event?: string; id?: string; data: string[] } = { data: [] };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
      if (line === "") {
        if (item.data.length || item.event) yield { event: item.event, id: item.id, data: item.data.join("\n") };
        item = { data: [] };
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") item.data.push(value);
      else if (field === "event") item.event = value;
      else if (field === "id") item.id = value;
    }
  }
}
