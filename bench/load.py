"""Load a stage through its public API: schedule N posts due at one instant T,
then watch them publish and report what the API answers.

    PYTHONPATH=. .venv/bin/python bench/load.py --base-url http://127.0.0.1:3000 \\
        --key lp_test_... --posts 2000 --at +60s [--container cnt_...] [--threads 8]

Works against any stage (the local stack or a deployed one): only public
routes are called. The API lists no containers, so they are named
(`--container`, repeatable; the Makefile passes the seed's video container);
each one's project comes from `GET /v1/content/{id}` and its targets from
that project's social accounts whose `publishReadiness.publish` is ready.
Every schedule request carries up to 50 targets (each account once) and its
own Idempotency-Key, re-sent on every retry; a 429 pauses every thread for
its Retry-After.

Then it polls the project's post list for the instant T until every post it
scheduled is terminal, or `--timeout` seconds after T, and prints: posts
scheduled, published, failed by error code, still pending, duplicates when
the stage can show them (the local stack's `GET /_local/sandbox/deliveries`),
and lateness percentiles from the resource's own instants:
`publishedAt - scheduledFor` (published posts) and `attemptedAt -
scheduledFor` (the publisher's first claim; every attempted post).

Exit status 1 when any post failed, stayed pending, was delivered twice (or
published without a delivery), or could not be scheduled.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sdk"))

from layers import Layers  # noqa: E402
from layers import errors  # noqa: E402

MAX_TARGETS = 50  # per schedule request (the endpoint's limit)
TERMINAL = ("published", "draft", "failed", "canceled")
PAGE = 100  # the list endpoint's largest page
_RELATIVE = re.compile(r"^\+(\d+(?:\.\d+)?)([smh]?)$")


# -- the instant T ---------------------------------------------------------------------


def parse_at(text: str, now: datetime) -> datetime:
    """`+60s`, `+2m`, `+1h` (from now, rounded up to a whole second so every
    post shares one second) or an ISO 8601 instant with an offset."""
    found = _RELATIVE.match(text.strip())
    if found:
        unit = {"": 1, "s": 1, "m": 60, "h": 3600}[found.group(2)]
        at = now + timedelta(seconds=float(found.group(1)) * unit)
        return at.replace(microsecond=0) + (timedelta(seconds=1) if at.microsecond else timedelta())
    at = datetime.fromisoformat(re.sub(r"[Zz]$", "+00:00", text.strip()))
    if at.tzinfo is None:
        raise ValueError(f"--at {text!r} has no UTC offset")
    return at.astimezone(timezone.utc)


def wire(at: datetime) -> str:
    millis = at.microsecond // 1000
    return at.strftime("%Y-%m-%dT%H:%M:%S") + (f".{millis:03d}Z" if millis else "Z")


def instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


# -- talking to the API ----------------------------------------------------------------


class Api:
    """One key's calls, each retried until it has a final answer: 429 waits
    Retry-After (every thread pauses with it), 5xx, connection failures and
    IDEMPOTENCY_IN_PROGRESS retry with the same Idempotency-Key."""

    def __init__(self, base_url: str, key: str, *, timeout: float = 60.0, give_up: float = 600.0):
        self.base_url = base_url.rstrip("/")
        self.client = Layers(key, base_url=self.base_url, timeout=timeout, max_retries=0)
        self.give_up = give_up
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self.throttled = 0
        self.retried = 0

    def call(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None,
             idempotency_key: str | None = None) -> Any:
        deadline = time.monotonic() + self.give_up
        attempt = 0
        last: Exception | None = None
        while True:
            self._wait_for_pause()
            try:
                return self.client.request(method, path, body=body, params=params,
                                           idempotency_key=idempotency_key, auto_idempotency=False).body
            except errors.RateLimitError as exc:
                last = exc
                with self._lock:
                    self.throttled += 1
                    self._paused_until = max(self._paused_until, time.monotonic() + (exc.retry_after or 1.0))
                wait = 0.0
            except (errors.APIConnectionError, errors.InternalServerError, errors.ServiceUnavailableError) as exc:
                wait = min(8.0, 0.25 * 2 ** attempt)
                last = exc
            except errors.ConflictError as exc:
                if exc.reason != "IDEMPOTENCY_IN_PROGRESS":
                    raise
                wait = 1.0
                last = exc
            else:  # pragma: no cover - request() either returns or raises
                raise AssertionError
            attempt += 1
            with self._lock:
                self.retried += 1
            if time.monotonic() + wait > deadline:
                raise RuntimeError(f"{method} {path}: no final answer within {self.give_up:.0f} s") from last
            time.sleep(wait)

    def _wait_for_pause(self) -> None:
        while True:
            with self._lock:
                left = self._paused_until - time.monotonic()
            if left <= 0:
                return
            time.sleep(left)

    def pages(self, path: str, params: dict[str, Any]) -> Iterable[dict[str, Any]]:
        cursor = None
        while True:
            answer = self.call("GET", path, params={**params, "cursor": cursor})
            yield from answer.get("items") or []
            cursor = answer.get("nextCursor")
            if not cursor:  # a short page with a cursor still has more behind it
                return

    def local_deliveries(self) -> list[dict[str, Any]] | None:
        """The sandbox's own record of what it created: local stack only."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/_local/sandbox/deliveries", timeout=60) as answer:
                return json.loads(answer.read()).get("items")
        except (urllib.error.URLError, OSError, ValueError):
            return None


# -- what to schedule ------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    container_id: str
    project_id: str
    accounts: tuple[str, ...]


def discover(api: Api, containers: list[str], only: set[str] | None, skip: set[str]) -> list[Source]:
    sources = []
    for container_id in containers:
        container = api.call("GET", f"/v1/content/{container_id}")
        if container.get("status") != "completed" or container.get("approvalStatus") not in ("not_required",
                                                                                             "approved"):
            raise SystemExit(f"{container_id}: status {container.get('status')}, approval "
                             f"{container.get('approvalStatus')}: not ready to publish without a gate")
        project = container["projectId"]
        accounts = [a["socialAccountId"] for a in api.pages(f"/v1/projects/{project}/social-accounts",
                                                           {"status": "connected", "limit": 200})
                    if ((a.get("publishReadiness") or {}).get("publish") or {}).get("ready")
                    and (only is None or a["socialAccountId"] in only) and a["socialAccountId"] not in skip]
        if accounts:
            sources.append(Source(container_id, project, tuple(accounts)))
    if not sources:
        raise SystemExit("no container with a publish-ready account to target")
    return sources


def plan(sources: list[Source], posts: int) -> list[tuple[str, list[str]]]:
    """(container, accounts) per request: at most 50 targets, each account once
    in a request, accounts taken in turn so each gets about the same number of posts."""
    requests: list[tuple[str, list[str]]] = []
    left, turn = posts, 0
    offsets = [0] * len(sources)
    while left > 0:
        i = turn % len(sources)
        source = sources[i]
        size = min(MAX_TARGETS, len(source.accounts), left)
        start = offsets[i]
        requests.append((source.container_id, [source.accounts[(start + k) % len(source.accounts)]
                                               for k in range(size)]))
        offsets[i] = (start + size) % len(source.accounts)
        left -= size
        turn += 1
    return requests


# -- scheduling ------------------------------------------------------------------------


@dataclass
class Scheduled:
    ids: dict[str, str] = field(default_factory=dict)  # post id -> project id
    errors: Counter[str] = field(default_factory=Counter)  # error code -> posts not scheduled
    seconds: float = 0.0
    finished_at: datetime | None = None


def schedule(api: Api, sources: list[Source], requests: list[tuple[str, list[str]]], at: datetime,
             threads: int, progress: Callable[[str], None]) -> Scheduled:
    project_of = {s.container_id: s.project_id for s in sources}
    result = Scheduled()
    lock = threading.Lock()
    too_late = threading.Event()

    def one(request: tuple[str, list[str]]) -> None:
        container, accounts = request
        if too_late.is_set():
            with lock:
                result.errors["NOT_SENT_TOO_LATE"] += len(accounts)
            return
        body = {"scheduledFor": wire(at), "targets": [{"socialAccountId": a, "mode": "publish"} for a in accounts]}
        try:
            answer = api.call("POST", f"/v1/content/{container}/schedule", body=body,
                              idempotency_key=str(uuid.uuid4()))
        except errors.LayersError as exc:
            if isinstance(exc, errors.ValidationError) and any(i.get("path") == "scheduledFor" for i in exc.issues):
                too_late.set()  # T is in the past for the API now: nothing later can succeed
            with lock:
                result.errors[exc.code] += len(accounts)
            return
        except RuntimeError:
            with lock:
                result.errors["NO_ANSWER"] += len(accounts)
            return
        with lock:
            if answer.get("gateStatus") != "queued":
                result.errors[f"GATE_{answer.get('gateStatus')}"] += len(accounts)
                return
            for post_id in answer["scheduledPostIds"]:
                result.ids[post_id] = project_of[container]
            done = len(result.ids)
        if done % 500 < len(accounts):
            progress(f"scheduled {done}")

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(one, requests))
    result.seconds = time.monotonic() - started
    result.finished_at = datetime.now(timezone.utc)
    return result


# -- watching --------------------------------------------------------------------------


def poll(api: Api, scheduled: Scheduled, at: datetime, timeout: float, every: float,
         progress: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    """The last answer for every post scheduled: the project's list for the
    instant T (a page of pending posts while any remain, then every post), and
    a GET for any post the list did not show."""
    window = {"from": wire(at), "to": wire(at + timedelta(milliseconds=1)), "limit": PAGE}
    projects = sorted(set(scheduled.ids.values()))
    wait = (at - datetime.now(timezone.utc)).total_seconds()
    if wait > 0:
        progress(f"waiting {wait:.0f} s for T")
        time.sleep(wait)
    deadline = time.monotonic() + timeout - max(0.0, -wait)  # counted from T
    seen: dict[str, dict[str, Any]] = {}
    while True:
        # A page of pending posts at most: reading them all every round would
        # load the stage being measured (a local stack shares its CPU).
        pending = 0
        for project in projects:
            for post in api.pages(f"/v1/projects/{project}/scheduled-posts",
                                  {**window, "status": "queued,publishing"}):
                pending += post["id"] in scheduled.ids
                if pending >= PAGE:
                    break
        elapsed = (datetime.now(timezone.utc) - at).total_seconds()
        progress(f"T+{elapsed:.0f}s: {'≥' if pending >= PAGE else ''}{pending} of {len(scheduled.ids)} pending")
        if not pending or time.monotonic() >= deadline:
            for project in projects:
                for post in api.pages(f"/v1/projects/{project}/scheduled-posts", window):
                    if post["id"] in scheduled.ids:
                        seen[post["id"]] = post
            for post_id in set(scheduled.ids) - set(seen):
                seen[post_id] = api.call("GET", f"/v1/scheduled-posts/{post_id}")
            # The list is an index read: trust it only once the posts themselves say terminal.
            if all(p["status"] in TERMINAL for p in seen.values()) or time.monotonic() >= deadline:
                return seen
        time.sleep(every)


# -- the report ------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def lateness(posts: Iterable[dict[str, Any]], field_name: str) -> list[float]:
    out = []
    for post in posts:
        when, due = instant(post.get(field_name)), instant(post.get("scheduledFor"))
        if when is not None and due is not None:
            out.append((when - due).total_seconds())
    return out


def summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    return "  ".join(f"{name} {percentile(values, p):.3f}" for name, p in
                     (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))) + f"  (n={len(values)})"


def duplicates(deliveries: list[dict[str, Any]] | None, posts: dict[str, dict[str, Any]]) -> tuple[int, int] | None:
    """(extra deliveries of our posts, published posts the platform never created)."""
    if deliveries is None:
        return None
    per_post = Counter(d.get("scheduledPostId") for d in deliveries if d.get("kind") == "post")
    extra = sum(per_post[i] - 1 for i in posts if per_post[i] > 1)
    unseen = sum(1 for i, p in posts.items() if p["status"] in ("published", "draft") and not per_post[i])
    return extra, unseen


def _before(at: datetime, when: datetime) -> str:
    ahead = (at - when).total_seconds()
    return f"{ahead:.1f} s before T" if ahead >= 0 else f"{-ahead:.1f} s after T: lateness includes scheduling"


def report(*, requested: int, at: datetime, scheduled: Scheduled, posts: dict[str, dict[str, Any]],
           dup: tuple[int, int] | None, api: Api, requests: int, wall: float) -> tuple[str, bool]:
    statuses = Counter(p["status"] for p in posts.values())
    failed = Counter((p.get("lastError") or {}).get("code") or "?" for p in posts.values() if p["status"] == "failed")
    pending = sum(n for s, n in statuses.items() if s not in TERMINAL)
    published = [p for p in posts.values() if p["status"] == "published"]
    done = [instant(p.get("publishedAt")) for p in published if p.get("publishedAt")]
    lines = [
        f"due at (T): {wire(at)}",
        f"posts requested: {requested}",
        f"posts scheduled: {len(scheduled.ids)} in {requests} requests, {scheduled.seconds:.1f} s "
        f"(finished {_before(at, scheduled.finished_at)})" if scheduled.finished_at else "",
        f"not scheduled: {sum(scheduled.errors.values())} {dict(scheduled.errors) or ''}".rstrip(),
        f"published: {statuses.get('published', 0)}",
        f"draft: {statuses.get('draft', 0)}",
        f"canceled: {statuses.get('canceled', 0)}",
        f"failed: {statuses.get('failed', 0)} {dict(failed) or ''}".rstrip(),
        f"still pending: {pending} {({s: n for s, n in statuses.items() if s not in TERMINAL}) or ''}".rstrip(),
        (f"duplicates: {dup[0]} (extra sandbox deliveries); published without a delivery: {dup[1]}"
         if dup is not None else "duplicates: not observable on this stage (no /_local/sandbox/deliveries)"),
        f"lateness publishedAt-scheduledFor s: {summary(lateness(published, 'publishedAt'))}",
        f"lateness attemptedAt-scheduledFor s: {summary(lateness(posts.values(), 'attemptedAt'))}",
        f"last publishedAt: T+{(max(done) - at).total_seconds():.3f} s" if done else "last publishedAt: n/a",
        f"throttled (429): {api.throttled}; retried: {api.retried}",
        f"wall: {wall:.1f} s",
    ]
    ok = (len(scheduled.ids) == requested and not statuses.get("failed") and pending == 0
          and (dup is None or dup == (0, 0)))
    return "\n".join(line for line in lines if line), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--posts", type=int, required=True)
    parser.add_argument("--at", required=True, help="ISO 8601 instant with an offset, or +60s / +2m from now")
    parser.add_argument("--container", action="append", required=True,
                        help="a completed container of the key's organization (repeatable)")
    parser.add_argument("--accounts", help="comma-separated account ids: target only these")
    parser.add_argument("--skip-accounts", default="", help="comma-separated account ids never to target")
    parser.add_argument("--threads", type=int, default=8, help="concurrent schedule requests")
    parser.add_argument("--timeout", type=float, default=600, help="seconds after T to wait for terminal posts")
    parser.add_argument("--poll-every", type=float, default=5.0,
                        help="seconds between polls (lateness comes from the posts' own instants, not from these)")
    args = parser.parse_args(argv)

    def progress(text: str) -> None:
        print(f"[load] {text}", file=sys.stderr, flush=True)

    started = time.monotonic()
    at = parse_at(args.at, datetime.now(timezone.utc))
    api = Api(args.base_url, args.key)
    who = api.call("GET", "/v1/whoami")
    progress(f"{who.get('organizationName')} ({who.get('mode')} key, tier {who.get('rateLimitTier')}); T = {wire(at)}")
    only = {a for a in args.accounts.split(",") if a} if args.accounts else None
    sources = discover(api, args.container, only, {a for a in args.skip_accounts.split(",") if a})
    requests = plan(sources, args.posts)
    progress(f"{sum(len(s.accounts) for s in sources)} accounts, {len(requests)} schedule requests")
    scheduled = schedule(api, sources, requests, at, args.threads, progress)
    posts = poll(api, scheduled, at, args.timeout, args.poll_every, progress) if scheduled.ids else {}
    dup = duplicates(api.local_deliveries(), posts)
    text, ok = report(requested=args.posts, at=at, scheduled=scheduled, posts=posts, dup=dup, api=api,
                      requests=len(requests), wall=time.monotonic() - started)
    print(text, flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
