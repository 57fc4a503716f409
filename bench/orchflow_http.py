"""The few HTTP calls the benchmark scripts make, on the standard library only."""
import json
import os
import time
import urllib.request

API = os.environ.get("ORCHFLOW_URL", "http://127.0.0.1:7071/api/v1")


def call(method, path, key=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(API + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("X-API-Key", key)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def wait(key, run_id, predicate, limit=120, interval=0.02):
    """Polls the run until predicate(run) holds; raises TimeoutError after `limit` seconds."""
    deadline = time.monotonic() + limit
    while True:
        run = call("GET", f"/runs/{run_id}", key)
        if predicate(run):
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} stuck: {run['status']}")
        time.sleep(interval)
