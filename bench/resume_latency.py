#!/usr/bin/env python3
"""Times how long a human's answer takes to set the work that waited for it running, against a running Orchflow.

Prepares N runs of the public docs' competitor example, each paused on T1 with its research done. Then for each
run: lets the hub sit idle (--idle seconds, so the backend's queue polling has backed off to its slowest), answers
T1, and measures from the moment the /complete response arrives to the moment a task that depends on T1 runs:

  server  the dependent task's started_at (set by the projection, server clock) minus the client's wall-clock
          time when the /complete response arrived. Host and client must share a clock (same machine).
  polled  the client's wall-clock time until a GET first shows that task running (polls every 10 ms), so it
          carries up to ~10 ms of polling delay plus one GET.

Prints median and p90 of both. Each run completes before the next idle period starts.

    ORCHFLOW_URL=http://127.0.0.1:7071/api/v1 bench/resume_latency.py [--runs 20] [--idle 60]

Start the host with Orchflow__Simulated__LatencyMs=0 to measure Orchflow's own overhead.
"""
import argparse
import datetime
import re
import statistics
import time
import uuid

from orchflow_http import call, wait

GOAL = "Research 5 competitors, extract pricing, compare positioning, then propose our launch strategy."
STARTED = ("running", "waiting_human", "completed")


def parse_time(text):
    """ISO 8601 with up to 7 fractional digits (.NET) to a UTC timestamp in seconds."""
    match = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    if not match:
        raise ValueError(f"not an ISO 8601 timestamp: {text}")
    base, fraction, zone = match.groups()
    seconds = datetime.datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone)).timestamp()
    return seconds + (float("0." + fraction) if fraction else 0.0)


def dependents(run):
    """Tasks that wait for T1 and for nothing else still open: the ones the answer should start."""
    tasks = run["subtasks"]
    return [t["task_id"] for t in tasks.values()
            if "T1" in t["depends_on"]
            and all(d == "T1" or tasks[d]["state"] == "completed" for d in t["depends_on"])]


def prepare(count):
    runs = []
    for _ in range(count):
        # A fresh account per run keeps each within the managed trial allowance.
        key = call("POST", "/auth/register", body={"name": "bench", "email": f"{uuid.uuid4().hex}@example.com"})["api_key"]
        run = call("POST", "/runs", key, {"task": GOAL, "ask_me_about": ["company details"], "require_approval": False})
        runs.append((key, run["run_id"]))
    ready = []
    for key, run_id in runs:
        run = wait(key, run_id, lambda r: r["status"] in ("waiting_human", "completed", "failed", "cancelled"))
        if run["status"] != "waiting_human" or run["waiting_on"] != ["T1"] or not dependents(run):
            raise RuntimeError(f"run {run_id} is not waiting on T1 alone with work behind it: {run['status']}")
        ready.append((key, run_id, dependents(run)))
    return ready


def p90(xs):
    return sorted(xs)[max(0, int(round(0.9 * len(xs))) - 1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="answers to time (default 20)")
    parser.add_argument("--idle", type=float, default=60, help="seconds the hub sits idle before each answer (default 60)")
    args = parser.parse_args()

    ready = prepare(args.runs)
    server, polled = [], []
    for index, (key, run_id, waiting) in enumerate(ready, 1):
        time.sleep(args.idle)
        call("POST", f"/runs/{run_id}/tasks/T1/complete", key, {"output": "Company: a workflow API for AI apps."})
        answered = time.time()
        run = wait(key, run_id, lambda r: any(r["subtasks"][t]["state"] in STARTED for t in waiting), limit=60, interval=0.01)
        seen = time.time()
        started = min(parse_time(run["subtasks"][t]["started_at"]) for t in waiting
                      if run["subtasks"][t]["started_at"])
        server.append((started - answered) * 1000)
        polled.append((seen - answered) * 1000)
        print(f"run {index:>2}/{args.runs} {run_id}: server {server[-1]:6.0f} ms  polled {polled[-1]:6.0f} ms", flush=True)
        done = wait(key, run_id, lambda r: r["status"] in ("completed", "failed", "cancelled"))
        if done["status"] != "completed":
            raise RuntimeError(f"run {run_id} ended {done['status']}: {done['error']}")

    print(f"runs: {args.runs}  idle before each answer: {args.idle:g} s")
    print(f"/complete response -> dependent started_at (server): median {statistics.median(server):.0f} ms, p90 {p90(server):.0f} ms")
    print(f"/complete response -> dependent seen running (polled): median {statistics.median(polled):.0f} ms, p90 {p90(polled):.0f} ms")


if __name__ == "__main__":
    main()
