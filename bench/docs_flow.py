#!/usr/bin/env python3
"""Times the public docs' first run end to end against a running Orchflow.

Registers an account, then for each iteration: POST /runs with the docs' competitor example, polls until T1
waits, answers it at once, polls until completed. Prints the median and p90 of POST-to-completed, and of
answer-to-completed. Polls every 20 ms, so figures carry up to that much polling delay.

    ORCHFLOW_URL=http://127.0.0.1:7071/api/v1 bench/docs_flow.py [iterations]

Start the host with Orchflow__Simulated__LatencyMs=0 to measure Orchflow's own overhead.
"""
import statistics
import sys
import time
import uuid

from orchflow_http import call, wait


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    total, after_answer = [], []
    for _ in range(iterations):
        # A fresh account per iteration keeps each within the managed trial allowance.
        key = call("POST", "/auth/register", body={"name": "bench", "email": f"{uuid.uuid4().hex}@example.com"})["api_key"]
        start = time.monotonic()
        run = call("POST", "/runs", key, {
            "task": "Research 5 competitors, extract pricing, compare positioning, then propose our launch strategy.",
            "ask_me_about": ["company details"],
            "require_approval": False,
        })
        wait(key, run["run_id"], lambda r: r["status"] == "waiting_human")
        answered = time.monotonic()
        call("POST", f"/runs/{run['run_id']}/tasks/T1/complete", key, {"output": "Company: a workflow API for AI apps."})
        done = wait(key, run["run_id"], lambda r: r["status"] in ("completed", "failed", "cancelled"))
        if done["status"] != "completed":
            raise RuntimeError(f"run ended {done['status']}: {done['error']}")
        end = time.monotonic()
        total.append((end - start) * 1000)
        after_answer.append((end - answered) * 1000)

    def p90(xs):
        return sorted(xs)[max(0, int(round(0.9 * len(xs))) - 1)]

    print(f"runs: {iterations}  tasks per run: {len(done['subtasks'])}")
    print(f"POST /runs -> completed (incl. answering T1): median {statistics.median(total):.0f} ms, p90 {p90(total):.0f} ms")
    print(f"answer T1 -> completed:                       median {statistics.median(after_answer):.0f} ms, p90 {p90(after_answer):.0f} ms")


if __name__ == "__main__":
    main()
