"""Cold first answer of every API function beside the boto3 floor (issue 10, ADR 0006).

A cold process imports a function (functions/<name>/app.py) and answers its
own sample event once (events/<name>.json, or the function's method and route
when it has none): the key is unknown to the stub, so auth reads DynamoDB
with one GetItem and answers 401. The same process then answers it again
(`warm_answer_ms`, for pricing: docs/adr/0006-cold-start.md). Beside it, the floor: a cold process doing
`import boto3` + one DynamoDB client + one GetItem. Both talk to the same
tiny HTTP stub (`AWS_ENDPOINT_URL`) that answers every DynamoDB call with
`{}` -- no moto, so the stub costs the same on both sides.

Runs are interleaved (function, floor, next function, floor, ...; the
order within a pair alternates) so load from other processes on the machine
lands on both; each function's ratio is the median of its paired ratios
(run / the floor run next to it), which cancels the load drifting between
pairs better than a ratio of medians. The ms figures are plain medians.
Times are in-process (`perf_counter` from before the first import to the
answer), so interpreter start-up, the same on both sides, is left out;
`cpu_ratio` is the same ratio in process CPU time, which a loaded machine
disturbs less (a cross-check, not the goal).

    make bench   (or: PYTHONPATH=. .venv/bin/python bench/bench_cold_start.py)
    BENCH_COLD_RUNS=7 BENCH_COLD_ONLY=whoami,schedule_content  to narrow it
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "7"))
GOAL = 1.3
# Workers, not API functions: no API Gateway event, no caller waiting on a first answer.
NOT_API = {"publisher", "webhook_delivery", "webhook_fanout"}

_FUNCTION = """\
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import app
t1 = time.perf_counter()
event = json.loads(sys.argv[1]) if sys.argv[1] else None
if event is None:
    e = app.endpoint
    event = {"httpMethod": e.method, "path": e.path, "resource": e.path, "headers": {
             "Authorization": "Bearer lp_test_BENCHUNKNOWN0001_not-a-key", "Content-Type": "application/json",
             "Idempotency-Key": "8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999"}, "body": "{}"}
answer = app.handler(event, None)
t2, c2 = time.perf_counter(), time.process_time()
assert answer["statusCode"] == 401, answer
t3 = time.perf_counter()
app.handler(event, None)
warm = time.perf_counter() - t3
print(json.dumps({"import": t1 - t0, "answer": t2 - t0, "cpu": c2 - c0, "warm": warm}))
"""

_FLOOR = """\
import json, time
t0, c0 = time.perf_counter(), time.process_time()
import boto3
client = boto3.client("dynamodb")
client.get_item(TableName="layers-local", Key={"PK": {"S": "KEY#X"}, "SK": {"S": "KEY#X"}})
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"answer": t2 - t0, "cpu": c2 - c0}))
"""


class _Stub(BaseHTTPRequestHandler):
    """Every DynamoDB call answers `{}` (GetItem: no such item)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body, two writes, wait out a 40 ms delayed ACK

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "bench")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def api_functions() -> list[str]:
    only = {n for n in os.environ.get("BENCH_COLD_ONLY", "").split(",") if n}
    names = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
    return [n for n in names if n not in NOT_API and (not only or n in only)]


def _environment(endpoint: str) -> dict[str, str]:
    from local.publisher_loop import standalone_environment  # the handlers refuse to import unconfigured

    env = {**os.environ, **standalone_environment(), "PYTHONPATH": str(ROOT)}
    env.setdefault("WEBHOOK_KMS_KEY_ID", "alias/layers-local-webhooks")
    env.setdefault("WEBHOOK_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/layers-webhooks-local")
    env.update({
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # INFO is the template's default: the request's log line is part of the answer.
        "AWS_EC2_METADATA_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "INFO",
    })
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a deployed package has its bytecode; the warm-up run writes it
    return env


def _run(code: str, args: list[str], cwd: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{cwd.name}: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _event(name: str) -> str:
    path = ROOT / "events" / f"{name}.json"
    return path.read_text() if path.exists() else ""


def cold_first_answer(names: list[str] | None = None) -> dict[str, object]:
    names = names or api_functions()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = _environment(f"http://127.0.0.1:{server.server_address[1]}")
    events = {n: _event(n) for n in names}
    keys = ("import", "answer", "warm", "floor", "ratio", "cpu_ratio")
    samples: dict[str, dict[str, list[float]]] = {n: {k: [] for k in keys} for n in names}
    try:
        _run(_FLOOR, [], ROOT, env)  # warm-up: bytecode caches and the page cache
        for n in names:
            _run(_FUNCTION, [events[n]], ROOT / "functions" / n, env)
        for i in range(RUNS):
            for j, n in enumerate(names):
                if (i + j) % 2:
                    floor = _run(_FLOOR, [], ROOT, env)
                    fn = _run(_FUNCTION, [events[n]], ROOT / "functions" / n, env)
                else:
                    fn = _run(_FUNCTION, [events[n]], ROOT / "functions" / n, env)
                    floor = _run(_FLOOR, [], ROOT, env)
                got = samples[n]
                got["import"].append(fn["import"])
                got["answer"].append(fn["answer"])
                got["warm"].append(fn["warm"])
                got["floor"].append(floor["answer"])
                got["ratio"].append(fn["answer"] / floor["answer"])
                got["cpu_ratio"].append(fn["cpu"] / floor["cpu"])
    finally:
        server.shutdown()
        server.server_close()
    result: dict[str, object] = {}
    for n in names:
        med = {k: statistics.median(v) for k, v in samples[n].items()}
        result[n] = {"import_ms": round(med["import"] * 1000, 1), "first_answer_ms": round(med["answer"] * 1000, 1),
                     "warm_answer_ms": round(med["warm"] * 1000, 2), "floor_ms": round(med["floor"] * 1000, 1),
                     "ratio": round(med["ratio"], 2),
                     "cpu_ratio": round(med["cpu_ratio"], 2)}
    ratios = [r["ratio"] for r in result.values()]  # type: ignore[index]
    return {"runs": RUNS, "goal_ratio": GOAL, "max_ratio": max(ratios), "min_ratio": min(ratios),
            "all_within_goal": max(ratios) <= GOAL, "functions": result}


def _table(result: dict[str, object]) -> str:
    rows = [f"{'function':28} {'import':>8} {'answer':>8} {'warm':>6} {'floor':>8} {'ratio':>6} {'cpu':>6}"]
    for n, r in result["functions"].items():  # type: ignore[union-attr]
        rows.append(f"{n:28} {r['import_ms']:8.1f} {r['first_answer_ms']:8.1f} {r['warm_answer_ms']:6.1f} "
                    f"{r['floor_ms']:8.1f} {r['ratio']:6.2f} {r['cpu_ratio']:6.2f}")
    rows.append(f"max ratio {result['max_ratio']} (goal <= {GOAL}), medians of {result['runs']} cold processes, ms")
    return "\n".join(rows)


def run() -> dict[str, object]:
    result = cold_first_answer()
    print(_table(result), file=sys.stderr)
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(json.dumps(run(), indent=2))
