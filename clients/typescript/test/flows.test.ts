// The TypeScript client through the public docs' flows against a running Orchflow: ORCHFLOW_BASE_URL names it
// (Orchflow.Tests' TypeScriptClientTests starts the standalone host and runs these with it).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { OrchflowClient, OrchflowProblemError, endedStatuses, type CompleteTaskRequest, type RunEvent } from "../src/index.js";

const baseUrl = process.env.ORCHFLOW_BASE_URL;
if (!baseUrl) throw new Error("Set ORCHFLOW_BASE_URL to an Orchflow API, such as http://127.0.0.1:7071/api/v1");

const goal = "Research 5 competitors, extract pricing, compare positioning, then propose our launch strategy.";
const answer = "Company: a workflow API for AI apps. Brand voice: direct, useful, technical.";

async function client(fetchImpl?: typeof fetch): Promise<OrchflowClient> {
  const account = await OrchflowClient.register(baseUrl!, { name: "Tarun", email: `tarun-${randomUUID()}@example.com` });
  assert.match(account.api_key, /^orch_/);
  return new OrchflowClient(baseUrl!, { apiKey: account.api_key, fetch: fetchImpl });
}

test("seed flow: ask_me_about waits for T1, then completes with the answer", async () => {
  const orchflow = await client();
  // The public docs' body as it is: the optional fields it leaves out stay optional in the generated types.
  const started = await orchflow.startRun({ task: goal, ask_me_about: ["company details"], require_approval: false });
  assert.equal(started.status, "queued");

  const waiting = await orchflow.waitForStatus(started.run_id, ["waiting_human"]);
  const t1 = waiting.subtasks["T1"];
  assert.ok(t1);
  assert.deepEqual(waiting.waiting_on, ["T1"]);
  assert.equal(t1.kind, "human");
  assert.match(t1.prompt ?? "", /company details/);

  const answered = await orchflow.completeTask(started.run_id, "T1", { output: answer });
  assert.equal(answered.state, "completed");

  const done = await orchflow.waitForStatus(started.run_id, [...endedStatuses]);
  assert.equal(done.status, "completed", done.error ?? "");
  assert.ok(done.final_output);
  assert.equal(done.subtasks["T1"]?.output, answer);
});

test("approval flow: each draft waits, a rejected one is redone", async () => {
  const orchflow = await client();
  const run = await orchflow.startRun({ task: goal, ask_me_about: ["company details"], require_approval: true });
  let rejected = false;
  for (;;) {
    const current = await orchflow.waitForStatus(run.run_id, ["waiting_human", ...endedStatuses]);
    if (endedStatuses.has(current.status)) {
      assert.equal(current.status, "completed", current.error ?? "");
      break;
    }
    for (const task of Object.values(current.subtasks).filter((t) => t.state === "waiting_human")) {
      const verdict: CompleteTaskRequest = task.kind === "human" ? { output: answer }
        : !rejected ? { approved: false, feedback: "Name the sources of each price." }
        : { approved: true };
      rejected ||= verdict.approved === false;
      await orchflow.completeTask(run.run_id, task.task_id, verdict);
    }
  }
  const log = await orchflow.getRunEvents(run.run_id, 0, 1000);
  assert.ok(rejected);
  assert.ok(log.events.some((e) => e.type === "task.revision_requested"));
});

test("event stream: cut after the first event, resumed with Last-Event-ID, each event once", async () => {
  const streamRequests: (string | null)[] = [];
  // Cuts the first event stream once one whole event has come through, as a dropped connection would.
  const cutting: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    const isStream = headers.get("Accept") === "text/event-stream";
    if (isStream) streamRequests.push(headers.get("Last-Event-ID"));
    const response = await fetch(input, init);
    if (!isStream || streamRequests.length > 1 || !response.body) return response;
    const reader = response.body.getReader();
    let seen = "";
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (firstEventEnd(seen) >= 0) {
          await reader.cancel();
          controller.error(new Error("The connection was cut (test)."));
          return;
        }
        const { done, value } = await reader.read();
        if (done) return controller.close();
        // One event at most: pass the bytes up to the end of the first event with an id.
        const text = new TextDecoder().decode(value);
        const end = firstEventEnd(seen + text);
        const keep = end < 0 ? text.length : end - seen.length;
        seen += text.slice(0, keep);
        controller.enqueue(new TextEncoder().encode(text.slice(0, keep)));
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  const orchflow = await client(cutting);
  const run = await orchflow.startRun({ task: goal, ask_me_about: ["company details"] });

  const seen: RunEvent[] = [];
  for await (const event of orchflow.streamEvents(run.run_id)) {
    seen.push(event);
    if (event.type === "task.waiting_human" && event.task_id === "T1") {
      await orchflow.completeTask(run.run_id, "T1", { output: answer });
    }
  }

  const log = await orchflow.getRunEvents(run.run_id, 0, 1000);
  assert.ok(streamRequests.length >= 2, "the stream was connected again after the cut");
  assert.equal(streamRequests[0], null);
  assert.equal(streamRequests[1], "1");
  assert.deepEqual(seen.map((e) => e.sequence), log.events.map((e) => e.sequence));
  assert.equal(seen.at(-1)?.type, "run.completed");
});

/** Where the first event that has an id ends in a `text/event-stream` text (after its blank line), or -1. */
function firstEventEnd(text: string): number {
  for (let start = 0; ;) {
    const end = text.indexOf("\n\n", start);
    if (end < 0) return -1;
    if (/(^|\n)id: /.test(text.slice(start, end))) return end + 2;
    start = end + 2;
  }
}

test("errors: one error type carrying the problem details", async () => {
  const orchflow = await client();
  await assert.rejects(orchflow.getRun("run_0000000000000000000a"), (e: unknown) =>
    e instanceof OrchflowProblemError && e.status === 404 && e.code === "not_found");
  await assert.rejects(orchflow.startRun({ task: "" }), (e: unknown) =>
    e instanceof OrchflowProblemError && e.status === 422 && e.problem.errors?.["task"] !== undefined);
});

test("idempotency: the same key twice starts one run", async () => {
  const orchflow = await client();
  const key = `ts-${randomUUID()}`;
  const first = await orchflow.startRun({ task: goal }, key);
  const second = await orchflow.startRun({ task: goal }, key);
  assert.equal(second.run_id, first.run_id);
  assert.equal((await orchflow.listRuns()).total, 1);
});

test("keys and erasure: a key issued, listed and revoked; a run purged; the account closed", async () => {
  const orchflow = await client();
  const created = await orchflow.createKey("CI pipeline");
  const second = new OrchflowClient(baseUrl!, { apiKey: created.api_key });
  const keys = await second.listKeys();
  assert.deepEqual(keys.map((k) => k.label), ["Registration", "CI pipeline"]);
  await second.revokeKey(created.key_id);
  await assert.rejects(second.listKeys(), (e: unknown) => e instanceof OrchflowProblemError && e.status === 401);
  await assert.rejects(orchflow.revokeKey(keys[0]!.key_id), (e: unknown) => e instanceof OrchflowProblemError && e.status === 409);

  const run = await orchflow.startRun({ task: goal, ask_me_about: ["company details"] });
  await orchflow.purgeRun(run.run_id);
  await assert.rejects(orchflow.getRun(run.run_id), (e: unknown) => e instanceof OrchflowProblemError && e.status === 404);
  await orchflow.closeAccount();
  await assert.rejects(orchflow.listRuns(), (e: unknown) => e instanceof OrchflowProblemError && e.status === 401);
});
