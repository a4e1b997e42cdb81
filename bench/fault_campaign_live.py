"""Live-adapter fault campaign: publish >= 300 posts through the real publisher
and the live adapters (TikTok Content Posting, Instagram Graph publish mode with
carousels and first comments, the managed provider) and send >= 50
notify-device requests through the real handler and the Linq adapter, all
against the fake servers of tests/fakes/ over real sockets, while the fakes
misbehave at random on every request:

- lost-drop    the fake does the work, then closes the connection unanswered;
- lost-late    the fake does the work, then answers after the client's read timeout;
- refused-500 / refused-503  the fake refuses before doing anything;
- throttled-429  refused with Retry-After;
- hang         the fake stays silent past the client's read timeout and does nothing;
- (Linq) accepted-then-500  the message is stored, the answer is a 500.

The publisher runs on a simulated clock (the sandbox campaign's World: slots,
a queue that duplicates / delays / loses messages, a sweeper, workers that die
before or right after the platform call); the HTTP calls are real, with short
client timeouts. notify-device runs on the real clock, driven as a partner's
SDK would: the same Idempotency-Key after a 5xx, a 409 IDEMPOTENCY_IN_PROGRESS,
a 429 or a client timeout; its function sometimes dies right after Linq
accepted a message.

Everything is counted at the fakes (what the fake platforms hold), never from
our own records:

- duplicate platform posts: one scheduled post live more than once   (must be 0)
- posts `published` with no live post at the fake                    (must be 0)
- posts `failed` with a live post at the fake, except SUBMIT_OUTCOME_UNKNOWN
  (those are counted apart)                                          (must be 0)
- posts never terminal                                               (must be 0)
- notify requests answered 200 `sent` with other than exactly the 3
  planned messages delivered for that request                        (must be 0)
- notify requests (any answer) that delivered one message twice      (must be 0)

Exit status 1 when any must-be-0 count is not 0; the violating posts and
requests are printed with what the fakes saw (step, fault) and what the
publisher did.

    PYTHONPATH=. python bench/fault_campaign_live.py [--posts 300] [--notifies 60] [--seed 7]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fault_campaign import (  # noqa: E402  (the sandbox campaign's world, reused)
    SWEEP_EVERY, VISIBILITY_TIMEOUT, Crash, World, _all_posts, _work_queues_empty,
)

CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 0.4     # every live adapter's HTTP read timeout in this campaign
HANG = 1.0             # a hung or late answer: past READ_TIMEOUT
ORG = "org_11111111-1111-4111-8111-111111111111"
PROJECT = "prj_33333333-3333-4333-8333-000000000001"
TIKTOK_SEED, INSTAGRAM_SEED = "sa_55555555-5555-4555-8555-000000000001", "sa_55555555-5555-4555-8555-000000000002"
VIDEO, IMAGE, SLIDESHOW = (f"cnt_66666666-6666-4666-8666-{n:012d}" for n in (1, 2, 3))
PROVIDER = "acme-distribution"
SENDER = "+12052535597"
POST_ID = re.compile(r"sp_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
KINDS = ("lost-drop", "lost-late", "refused-500", "refused-503", "throttled-429", "hang")
LINQ_KINDS = ("lost-late", "accepted-then-500", "refused-500", "refused-503", "throttled-429", "hang")
MUST_BE_ZERO = ("duplicate_platform_posts", "published_without_live_post", "failed_with_live_post",
                "posts_never_terminal", "notify_sent_without_exactly_3", "notify_message_delivered_twice")


# --- faults ------------------------------------------------------------------------------------

class Chaos:
    """Decides, per request a fake receives, whether and how it misbehaves; logs it."""

    def __init__(self, seed: int, p_fault: float):
        self.rng = random.Random(seed)
        self.p_fault = p_fault
        self.enabled = True
        self.lock = threading.Lock()
        self.injected: Counter[tuple[str, str, str]] = Counter()  # (service, step, kind)
        self.requests: Counter[tuple[str, str]] = Counter()
        self.log: list[tuple[float, str, str, str | None, str | None]] = []  # (t, service, step, post, kind)

    def roll(self, service: str, step: str, post: str | None, kinds: tuple[str, ...] = KINDS) -> str | None:
        with self.lock:
            self.requests[(service, step)] += 1
            kind = None
            if self.enabled and self.rng.random() < self.p_fault:
                kind = self.rng.choice(kinds)
                self.injected[(service, step, kind)] += 1
            self.log.append((time.perf_counter(), service, step, post, kind))
            return kind

    def trace(self, post: str, since: float = 0.0, until: float = float("inf")) -> list[str]:
        with self.lock:
            return [f"{service}:{step}" + (f"[{kind}]" if kind else "") for t, service, step, p, kind in self.log
                    if p == post and since <= t <= until]


def _chaotic(base: type, service: str, step_of: Callable[[Any, Any], str], errors: Callable[[str], Any]) -> type:
    """A fake server class whose requests get random faults (scripted faults still win)."""
    from tests.fakes.http_server import Fault

    class Chaotic(base):  # type: ignore[misc, valid-type]
        chaos: Chaos

        def _record(self, request: Any) -> Any:
            scripted = super()._record(request)
            if scripted is not None:
                return scripted
            with self._lock:
                post = self.post_of(request)
            kind = self.chaos.roll(service, step_of(self, request), post)
            if kind is None:
                return None
            if kind == "lost-drop":
                return Fault(drop=True)
            if kind == "lost-late":
                return Fault(delay=HANG)
            if kind == "hang":
                status, body = errors("503")
                return Fault(status=status, body=body, delay=HANG)
            status, body = errors(kind.split("-")[1])
            headers = {"Retry-After": "30"} if status == 429 else {}
            return Fault(status=status, body=body, headers=headers)

        def post_of(self, request: Any) -> str | None:
            found = POST_ID.search(request.body.decode("utf-8", "replace") + request.path)
            return found.group(0) if found else self.post_by_id(request)

        def post_by_id(self, request: Any) -> str | None:
            return None

    Chaotic.__name__ = f"Chaotic{base.__name__}"
    return Chaotic


def fake_servers(chaos: Chaos, outcome_rng: random.Random, p_tiktok_failed: float) -> dict[str, Any]:
    from layers_shared import clock
    from tests.fakes import instagram as ig, linq as lq, tiktok as tt
    from tests.fakes.managed import FakeManagedProvider

    def tiktok_step(_: Any, r: Any) -> str:
        if r.path.endswith("/init/"):
            return "init"
        return {"/v2/oauth/token/": "token refresh", "/v2/post/publish/status/fetch/": "status fetch",
                "/v2/post/publish/creator_info/query/": "creator info"}.get(r.path, r.path)

    def tiktok_errors(code: str) -> tuple[int, Any]:
        status = int(code)
        return status, tt.envelope({}, "rate_limit_exceeded" if status == 429 else "internal_error", "fault")

    class TikTok(_chaotic(tt.FakeTikTok, "tiktok", tiktok_step, tiktok_errors)):  # type: ignore[misc]
        live_ids = iter(range(7_400_000_000_000_000_000, 8_000_000_000_000_000_000))

        def _created(self, prefix: str, kind: str, body: dict[str, Any]) -> Any:
            answer = super()._created(prefix, kind, body)
            publish = self.publishes[answer.body["data"]["publish_id"]]
            roll = outcome_rng.random()
            if roll < p_tiktok_failed:  # TikTok could not pull the media: retryable (issue 9, sequence 1)
                publish.final = {"status": "FAILED", "fail_reason": "video_pull_failed" if kind == "video"
                                 else "photo_pull_failed"}
            elif roll < p_tiktok_failed * 1.2:
                publish.final = {"status": "FAILED", "fail_reason": "file_format_check_failed"}
            else:
                publish.final = {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [next(self.live_ids)]}
            return answer

        def post_by_id(self, request: Any) -> str | None:
            publish = self.publishes.get(str((request.json or {}).get("publish_id")))
            return _post_in(publish.body) if publish else None

        def live(self) -> dict[str, list[str]]:
            found: dict[str, list[str]] = defaultdict(list)
            for publish in self.publishes.values():
                if publish.final.get("status") == "PUBLISH_COMPLETE":
                    found[_post_in(publish.body) or "?"].append(publish.publish_id)
            return found

    def instagram_step(_: Any, r: Any) -> str:
        tail = r.path.rsplit("/", 1)[-1]
        if tail == "media_publish":
            return "media_publish"
        if tail == "comments":
            return "comment" if r.method == "POST" else "comment read"
        if tail == "media":
            return "container create" if r.method == "POST" else "media list"
        fields = r.query.get("fields", "")
        return "permalink" if "permalink" in fields and "status" not in fields else "container status"

    def instagram_errors(code: str) -> tuple[int, Any]:
        status = int(code)
        if status == 429:
            return 429, ig.graph_error(4, "Application request limit reached", is_transient=True)
        return status, ig.graph_error(2, "An unexpected error has occurred. Please retry your request later.",
                                      is_transient=True)

    class Instagram(_chaotic(ig.FakeInstagram, "instagram", instagram_step, instagram_errors)):  # type: ignore[misc]
        def _publish(self, user: str, params: dict[str, str]) -> Any:
            answer = super()._publish(user, params)
            if answer.status == 200:  # Graph stamps the real publication time
                self.media[0].timestamp = clock.now().strftime("%Y-%m-%dT%H:%M:%S+0000")
            return answer

        def post_by_id(self, request: Any) -> str | None:
            node = request.path.strip("/").split("/")[1] if request.path.count("/") >= 2 else ""
            node = request.params.get("creation_id") or node
            container = self.containers.get(node)
            if container is not None:
                return _post_in(container.params) or self._parent(container.id)
            media = self._media(node)
            return _post_in(media.caption) if media else None

        def _parent(self, child: str) -> str | None:
            for container in self.containers.values():
                if child in container.params.get("children", "").split(","):
                    return _post_in(container.params)
            return None

        def live(self) -> dict[str, list[str]]:
            found: dict[str, list[str]] = defaultdict(list)
            for media in self.media:
                found[_post_in(media.caption) or "?"].append(media.id)
            return found

    def managed_errors(code: str) -> tuple[int, Any]:
        return int(code), {"error": {"code": "unavailable", "message": "fault"}}

    class Managed(_chaotic(FakeManagedProvider, "managed", lambda _, r: "submit", managed_errors)):  # type: ignore[misc]
        def live(self) -> dict[str, list[str]]:
            found: dict[str, list[str]] = defaultdict(list)
            for key, doc in self.accepted.items():
                found[str(doc.get("scheduledPostId"))].append(key)
            return found

    class Linq(lq.FakeLinq):
        _phone = threading.local()

        def handle(self, method: str, path: str, query: Any, headers: Any, body: Any) -> Any:
            found = re.fullmatch(r"/chats/([^/]+)/messages", path)
            chat = self.chats.get(found.group(1)) if found else None
            to = body.get("to") if isinstance(body, dict) and path == "/chats" else None
            self._phone.value = (chat.handles[0] if chat else to[0] if isinstance(to, list) and to else
                                 (query.get("to") or [None])[0])
            return super().handle(method, path, query, headers, body)

        def _take_fault(self, method: str, path: str) -> Any:
            scripted = super()._take_fault(method, path)
            if scripted is not None:
                return scripted
            if re.fullmatch(lq.SEND, path):
                step = "message send" if method == "POST" else "message read"
            elif path == "/chats":
                step = "chat creation" if method == "POST" else "chat list"
            else:
                step = "other read"
            kind = chaos.roll("linq", step, getattr(self._phone, "value", None), LINQ_KINDS)
            pattern = re.compile(re.escape(path))
            if kind is None:
                return None
            if kind == "lost-late":
                return lq.Fault(method, pattern, 1, after_accept=True, hang_seconds=HANG)
            if kind == "hang":
                return lq.Fault(method, pattern, 1, hang_seconds=HANG)
            if kind == "accepted-then-500":
                return lq.Fault(method, pattern, 1, status=500, after_accept=True)
            status = int(kind.split("-")[1])
            return lq.Fault(method, pattern, 1, status=status, retry_after="1" if status == 429 else None)

    servers = {"tiktok": TikTok(), "instagram": Instagram(), "managed": Managed(),
               # Linq's own duplicate guard off: only our code may prevent a double text.
               "linq": Linq(honour_idempotency=False)}
    for name, server in servers.items():
        if name != "linq":
            server.chaos = chaos
    return servers


def _post_in(value: Any) -> str | None:
    found = POST_ID.search(value if isinstance(value, str) else json.dumps(value))
    return found.group(0) if found else None


# --- the world ---------------------------------------------------------------------------------

_local = threading.local()  # per thread: the notify invocation's "dies after an accepted send" roll


def shorten_timeouts_and_allow_deaths() -> None:
    """Every adapter's HttpClient gets the campaign's short timeouts; a notify
    invocation may die right after Linq accepted a POST (its function is killed)."""
    from layers_shared import http_client

    cls = http_client.HttpClient
    if getattr(cls, "_campaign_patched", False):
        return
    original_init, original_request = cls.__init__, cls.request

    def init(self: Any, base_url: str, *, connect_timeout: float = 3.0, read_timeout: float = 10.0,
             **kw: Any) -> None:
        original_init(self, base_url, connect_timeout=min(connect_timeout, CONNECT_TIMEOUT),
                      read_timeout=min(read_timeout, READ_TIMEOUT), **kw)

    def request(self: Any, method: str, path: str, **kw: Any) -> Any:
        answer = original_request(self, method, path, **kw)
        die: Callable[[], bool] | None = getattr(_local, "die_after_accept", None)
        if die is not None and method == "POST" and 200 <= answer.status < 300 and die():
            raise Crash()
        return answer

    cls.__init__, cls.request = init, request  # type: ignore[method-assign]
    cls._campaign_patched = True  # type: ignore[attr-defined]


def add_accounts(table: Any, vault: Any, servers: dict[str, Any], start: datetime, rng: random.Random,
                 tiktoks: int, instagrams: int) -> dict[str, list[Any]]:
    """Clones of the seed's live TikTok and Instagram accounts, each with its own
    tokens at the fakes; TikTok tokens expire during the campaign (refreshes)."""
    from layers_shared import clock
    from layers_shared.models.entities import SocialAccount
    from layers_shared.platforms.port import Credentials
    from layers_shared.store import items, keys

    made: dict[str, list[Any]] = {"tiktok": [], "instagram": [], "managed": []}
    for platform, seed_id, count in (("tiktok", TIKTOK_SEED, tiktoks), ("instagram", INSTAGRAM_SEED, instagrams),
                                     ("managed", TIKTOK_SEED, 1)):
        template = SocialAccount.model_validate(table.get(keys.social_account(seed_id)))
        for n in range(count):
            account_id = f"sa_{uuid.UUID(int=rng.getrandbits(128), version=4)}"
            expires = clock.to_storage(start + timedelta(seconds=rng.uniform(60, 1500)))
            account = template.model_copy(update={"id": account_id, "handle": f"{platform}.campaign{n}",
                                                  "tokenExpiresAt": expires if platform == "tiktok" else None,
                                                  "platformUserId": f"1789{n:011d}" if platform == "instagram"
                                                  else template.platformUserId})
            table.put(items.to_item(account))
            if platform == "tiktok":
                access, refresh = f"act.campaign{n}", f"rft.campaign{n}"
                servers["tiktok"].add_account(access, refresh)
                vault.put(account_id, Credentials(access, refresh, expires, "open_fake_1"))
            elif platform == "instagram":
                token = f"IGQ.campaign{n}"
                servers["instagram"].add_account(token, account.platformUserId, "business")
                vault.put(account_id, Credentials(token, None, None, account.platformUserId))
            made[platform].append(account)
    return made


def build_posts(table: Any, accounts: dict[str, list[Any]], start: datetime, rng: random.Random,
                count: int) -> dict[str, dict[str, Any]]:
    from layers_shared import clock
    from layers_shared.models.entities import Media, ScheduledPost
    from layers_shared.store import items

    mix = [("tiktok-video", 30), ("tiktok-photo", 10), ("instagram-reel", 12), ("instagram-image", 10),
           ("instagram-carousel", 18), ("managed", 20)]
    kinds = [k for k, w in mix for _ in range(w)]
    made: dict[str, dict[str, Any]] = {}
    for _ in range(count):
        kind = rng.choice(kinds)
        post_id = f"sp_{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        url = f"https://media.example.com/{post_id}"
        platform = "instagram" if kind.startswith("instagram") else "tiktok"
        account = rng.choice(accounts["managed" if kind == "managed" else platform])
        first_comment = None
        if kind in ("tiktok-video", "instagram-reel", "managed"):
            media_type, container, media = "video", VIDEO, [Media(url=f"{url}/pour.mp4", kind="video")]
        elif kind == "instagram-image":
            media_type, container, media = "image", IMAGE, [Media(url=f"{url}/latte.jpg", kind="image")]
        else:
            media_type, container = "slideshow", SLIDESHOW
            media = [Media(url=f"{url}/{i}.jpg", kind="image") for i in range(rng.randint(2, 4))]
            if kind == "instagram-carousel" and rng.random() < 0.3:
                media.append(Media(url=f"{url}/clip.mp4", kind="video"))
        if platform == "instagram" and rng.random() < 0.6:
            first_comment = f"Order link in bio ({post_id[-6:]})"
        when = start + timedelta(seconds=30 + 9 * rng.randint(0, 99), milliseconds=rng.choice([0, 0, 250, 999]))
        post = ScheduledPost(
            id=post_id, organizationId=ORG, projectId=account.projectId, containerId=container,
            socialAccountId=account.id, platform=platform, handle=account.handle,
            mode="managed" if kind == "managed" else "publish", env="live", scheduledFor=clock.to_storage(when),
            mediaType=media_type, media=media, caption=f"Campaign {kind} {post_id}\n#coffee",
            firstComment=first_comment, managedProvider=PROVIDER if kind == "managed" else None,
            createdAt=clock.to_storage(start), updatedAt=clock.to_storage(start))
        table.put(items.to_item(post))
        made[post_id] = {"kind": kind, "account": account.id}
    return made


# --- phase 1: the publisher ----------------------------------------------------------------------

def run_publisher(table: Any, servers: dict[str, Any], chaos: Chaos, rng: random.Random, posts: int, *,
                  workers: int, p_crash_before: float, p_crash_after: float, p_drop: float, p_dup: float,
                  p_delay: float) -> dict[str, Any]:
    from layers_shared import clock
    from layers_shared.publisher import adapters, sweep
    from layers_shared.publisher.dispatch import Publisher
    from layers_shared.publisher.settings import timings
    from layers_shared.scheduling.trigger import slot_of
    from layers_shared.store import keys

    start = clock.truncate_ms(clock.now())
    clock.set_now(start)
    world = World(rng, start, p_drop=p_drop, p_dup=p_dup, p_delay=p_delay)
    vault = adapters.default_vault(table)
    accounts = add_accounts(table, vault, servers, start, rng, tiktoks=8, instagrams=8)
    made = build_posts(table, accounts, start, rng, posts)
    for slot in sorted({slot_of(table.get(keys.scheduled_post(i))["scheduledFor"]) for i in made}):
        world.at(slot + timedelta(seconds=rng.uniform(0, 3)), {"kind": "slot", "slot": clock.to_storage(slot)})
    world.at(start + timedelta(seconds=SWEEP_EVERY), {"kind": "sweep"})

    real = adapters.default_factory(table)

    class DiesAfterTheCall:
        """The platform call happens; the worker dies before recording its outcome."""

        def __init__(self, inner: Any):
            self.inner = inner

        def submit(self, delivery: Any) -> Any:
            self.inner.submit(delivery)
            raise Crash()

        def poll(self, delivery: Any, state: Any) -> Any:
            self.inner.poll(delivery, state)
            raise Crash()

        def confirm(self, delivery: Any, state: Any) -> Any:
            self.inner.confirm(delivery, state)
            raise Crash()

    good = Publisher(table, world, vault=vault, adapter_for=real)
    dying = Publisher(table, world, vault=vault, adapter_for=lambda p: DiesAfterTheCall(real(p)))
    steps: dict[str, list[str]] = defaultdict(list)
    steps_lock = threading.Lock()

    def note(body: dict[str, Any], what: str) -> None:
        if body.get("postId"):
            with steps_lock:
                steps[body["postId"]].append(f"{body.get('action') or body['kind']}->{what}")

    def handle(body: dict[str, Any], roll: float) -> None:
        if body["kind"] == "sweep":
            sweep.sweep(table, world, clock.now(), timings())
            return
        if roll < p_crash_before:
            with world._lock:
                world.faults["worker died before handling"] += 1
            note(body, "died-before")
            world.at(world.now + timedelta(seconds=VISIBILITY_TIMEOUT), body)
            return
        try:
            note(body, (dying if roll < p_crash_before + p_crash_after else good).handle(body))
        except Crash:
            with world._lock:
                world.faults["worker died after the platform call"] += 1
            note(body, "died-after-call")
            world.at(world.now + timedelta(seconds=VISIBILITY_TIMEOUT), body)

    end = start + timedelta(hours=4)
    n = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while world.events and world.now < end:
            world.now = max(world.now, world.events[0][0])
            clock.set_now(world.now)
            batch = world.due()
            rng.shuffle(batch)
            if any(b["kind"] == "sweep" for b in batch):
                world.at(world.now + timedelta(seconds=SWEEP_EVERY), {"kind": "sweep"})
            rolls = [rng.random() for _ in batch]
            list(pool.map(handle, batch, rolls))
            n += 1
            if n % 50 == 0 and _work_queues_empty(table):
                break
    simulated = (world.now - start).total_seconds() / 60
    clock.set_now(None)
    return {"made": made, "steps": steps, "queue_faults": dict(world.faults), "simulated_minutes": simulated}


def count_posts(table: Any, servers: dict[str, Any], made: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Compare the final status of every post with what the fakes hold."""
    final = _all_posts(table)
    live = {name: servers[name].live() for name in ("tiktok", "instagram", "managed")}
    statuses: Counter[str] = Counter()
    per_platform: dict[str, Counter[str]] = defaultdict(Counter)
    failed_codes: Counter[str] = Counter()
    bad: dict[str, list[str]] = defaultdict(list)
    unknown_live = unknown_absent = 0
    comments_twice = live_without_comment = 0
    for post_id, info in made.items():
        item = final[("SP#" + post_id, "META")]
        status = item["status"]
        code = (item.get("lastError") or {}).get("code")
        statuses[status] += 1
        per_platform[info["kind"]][status] += 1
        copies = sum(len(found.get(post_id, [])) for found in live.values())
        if status == "failed":
            failed_codes[code or "?"] += 1
        if copies > 1:
            bad["duplicate_platform_posts"].append(post_id)
        if status == "published" and copies == 0:
            bad["published_without_live_post"].append(post_id)
        if status == "failed" and copies:
            if code == "SUBMIT_OUTCOME_UNKNOWN":
                unknown_live += 1
            else:
                bad["failed_with_live_post"].append(post_id)
        elif status == "failed" and code == "SUBMIT_OUTCOME_UNKNOWN":
            unknown_absent += 1
        if status not in ("published", "failed", "draft", "canceled"):
            bad["posts_never_terminal"].append(post_id)
        if info["kind"].startswith("instagram") and item.get("firstComment"):
            for media_id in live["instagram"].get(post_id, []):
                comments = len(servers["instagram"]._media(media_id).comments)
                comments_twice += comments > 1
                live_without_comment += comments == 0
    return {"final": final, "live": live, "bad": bad, "statuses": dict(statuses),
            "per_kind": {k: dict(v) for k, v in sorted(per_platform.items())}, "failed_by_code": dict(failed_codes),
            "unknown_live": unknown_live, "unknown_absent": unknown_absent,
            "first_comment_twice": comments_twice, "first_comment_missing": live_without_comment}


# --- phase 2: notify-device --------------------------------------------------------------------

def run_notifies(stack: Any, linq: Any, rng: random.Random, calls: int, *, threads: int, p_die: float,
                 p_impatient: float, same_phone_gap: float) -> dict[str, Any]:
    """Partner calls over the real handler (the local stack's invoke: the API
    Gateway event, the function's handler), retried like an SDK would."""
    from tests.support import LIVE_KEY

    phones = [f"+1555{rng.randint(0, 9_999_999):07d}" for _ in range(max(1, calls // 3))]
    plan = [(rng.choice([VIDEO, IMAGE, SLIDESHOW]), rng.choice(phones)) for _ in range(calls)]
    by_lane: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    lane_of = {phone: i % threads for i, phone in enumerate(phones)}
    for n, (container, phone) in enumerate(plan):
        by_lane[lane_of[phone]].append((n, container, phone))
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def delivered(phone: str) -> list[Any]:
        with linq._lock:
            return [m for chat in linq.chats.values() if chat.handles == [phone] for m in chat.messages]

    def invoke(container: str, phone: str, key: str, lane_rng: random.Random) -> tuple[int, dict[str, Any], Any]:
        _local.die_after_accept = lambda: lane_rng.random() < p_die
        try:
            status, headers, data = stack.invoke(
                "POST", f"/v1/content/{container}/notify-device",
                {"Authorization": f"Bearer {LIVE_KEY}", "Content-Type": "application/json", "Idempotency-Key": key},
                json.dumps({"phoneNumber": phone}).encode())
            return status, {k.lower(): v for k, v in headers.items()}, json.loads(data or b"null")
        except Crash:  # the function was killed: API Gateway answers 502
            return 502, {}, {"error": {"code": "FUNCTION_DIED"}}
        finally:
            _local.die_after_accept = None

    def partner_call(n: int, container: str, phone: str, lane_rng: random.Random) -> dict[str, Any]:
        key = str(uuid.uuid4())
        before = len(delivered(phone))
        answers: list[str] = []
        started = time.perf_counter()
        pending: list[threading.Thread] = []
        final: tuple[int, Any] = (0, None)
        for attempt in range(1, 60):
            box: dict[str, Any] = {}
            worker = threading.Thread(target=lambda: box.update(answer=invoke(container, phone, key, lane_rng)),
                                      daemon=True)
            worker.start()
            patience = 0.05 if lane_rng.random() < p_impatient else 3.0  # the SDK's client timeout
            worker.join(patience)
            if worker.is_alive():
                pending.append(worker)
                answers.append("client-timeout")
                wait = 0.5
            else:
                status, headers, body = box["answer"]
                code = _error_code(body)
                answers.append(f"{status}{':' + code if code else ''}")
                final = (status, body)
                retryable = status >= 500 or status == 429 or code == "IDEMPOTENCY_IN_PROGRESS"
                if not retryable:
                    break
                wait = float(headers.get("retry-after") or min(0.25 * 2 ** attempt, 8))
            if time.perf_counter() - started + wait > 100:  # the partner gives up
                break
            time.sleep(wait)
        for worker in pending:
            worker.join()
        new = delivered(phone)[before:]
        parts = [json.dumps(m.parts, sort_keys=True) for m in new]
        status, body = final
        return {"n": n, "container": container, "phone": phone, "status": status, "began": started,
                "ended": time.perf_counter(), "seconds": round(time.perf_counter() - started, 2),
                "code": _error_code(body),
                "sent": status == 200 and isinstance(body, dict) and body.get("deliveryStatus") == "sent",
                "delivered": len(new), "distinct": len(set(parts)), "answers": answers}

    def lane(items_: list[tuple[int, str, str]], seed: int) -> None:
        lane_rng = random.Random(seed)
        last_end: dict[str, float] = {}
        for n, container, phone in items_:
            if phone in last_end:  # --same-phone-gap: keep requests to one phone apart
                time.sleep(max(0.0, same_phone_gap - (time.perf_counter() - last_end[phone])))
            outcome = partner_call(n, container, phone, lane_rng)
            last_end[phone] = outcome["ended"]
            with lock:
                results.append(outcome)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lane, [by_lane[i] for i in sorted(by_lane)], [rng.getrandbits(32) for _ in by_lane]))
    results.sort(key=lambda r: r["n"])
    return {"results": results}


def _error_code(body: Any) -> str | None:
    """The envelope's code; a 409 CONFLICT whose reason is IDEMPOTENCY_IN_PROGRESS reads as that reason."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    reason = (error.get("details") or {}).get("reason") if isinstance(error.get("details"), dict) else None
    return "IDEMPOTENCY_IN_PROGRESS" if reason == "IDEMPOTENCY_IN_PROGRESS" else error.get("code")


# --- the campaign --------------------------------------------------------------------------------

def run(posts: int = 300, notifies: int = 60, seed: int = 7, *, p_fault: float = 0.12, workers: int = 8,
        notify_threads: int = 6, p_tiktok_failed: float = 0.1, p_crash_before: float = 0.02,
        p_crash_after: float = 0.03, p_drop: float = 0.02, p_dup: float = 0.1, p_delay: float = 0.1,
        p_die: float = 0.02, p_impatient: float = 0.08, same_phone_gap: float = 0.0) -> dict[str, Any]:
    import logging

    logging.disable(logging.CRITICAL)  # the adapters log every injected fault
    started = time.perf_counter()
    os.environ["WORK_QUEUE_SHARDS"] = "1"  # moto scans per Query: one shard keeps the campaign fast
    rng = random.Random(seed)
    chaos = Chaos(seed + 1, p_fault)
    servers = fake_servers(chaos, random.Random(seed + 2), p_tiktok_failed)
    for server in servers.values():
        server.start()
    servers["tiktok"].expires_in = 900  # refreshes keep happening during the campaign
    os.environ.update({
        "TIKTOK_API_BASE": servers["tiktok"].url, "TIKTOK_CLIENT_KEY": servers["tiktok"].client_key,
        "TIKTOK_CLIENT_SECRET": servers["tiktok"].client_secret,
        "INSTAGRAM_GRAPH_BASE": servers["instagram"].base_url,
        "MANAGED_PROVIDERS": json.dumps({PROVIDER: servers["managed"].url}),
        "LINQ_API_BASE": servers["linq"].base_url, "LINQ_API_TOKEN": servers["linq"].token,
        "LINQ_FROM_NUMBER": SENDER, "LINQ_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
    })
    for name in ("LINQ_TOKEN_SECRET_ARN", "SMS_PROVIDER"):
        os.environ.pop(name, None)
    shorten_timeouts_and_allow_deaths()
    from layers_shared import clock
    from local.server import Stack

    # No table stream: the campaign counts at the platform fakes, not webhook
    # events, and moto's in-process stream grows a 300-post run to many GB.
    stack = Stack(table="layers-live-campaign", streams=False)
    try:
        pub = run_publisher(stack.table, servers, chaos, rng, posts, workers=workers,
                            p_crash_before=p_crash_before, p_crash_after=p_crash_after, p_drop=p_drop,
                            p_dup=p_dup, p_delay=p_delay)
        publisher_seconds = time.perf_counter() - started
        counted = count_posts(stack.table, servers, pub["made"])
        notified = run_notifies(stack, servers["linq"], rng, notifies, threads=notify_threads, p_die=p_die,
                                p_impatient=p_impatient, same_phone_gap=same_phone_gap)
    finally:
        clock.set_now(None)
        for server in servers.values():
            server.stop()
        stack.stop()

    results = notified["results"]
    bad = counted["bad"]
    bad["notify_sent_without_exactly_3"] = [r for r in results if r["sent"] and (r["delivered"] != 3
                                                                                  or r["distinct"] != 3)]
    bad["notify_message_delivered_twice"] = [r for r in results if r["distinct"] < r["delivered"]]
    faults: Counter[str] = Counter()
    per_step: dict[str, dict[str, int]] = defaultdict(dict)
    for (service, step, kind), count in sorted(chaos.injected.items()):
        faults[kind] += count
        per_step[f"{service}:{step}"][kind] = count
    fake_errors = [f"{name}: {e!r}" for name, s in servers.items() for e in getattr(s, "errors", [])]
    return {
        "seed": seed, "posts": posts, "notify_requests": len(results),
        **{name: len(bad.get(name, [])) for name in MUST_BE_ZERO},
        "failed_unknown_with_live_post": counted["unknown_live"],
        "failed_unknown_without_live_post": counted["unknown_absent"],
        "first_comment_twice": counted["first_comment_twice"],
        "first_comment_missing_on_live_post": counted["first_comment_missing"],
        "statuses": counted["statuses"], "statuses_per_kind": counted["per_kind"],
        "failed_by_code": counted["failed_by_code"],
        "notify_answers": dict(Counter("sent" if r["sent"] else f"{r['status']} {r['code']}" for r in results)),
        "notify_messages_delivered": dict(Counter(r["delivered"] for r in results)),
        "notify_partial_non_sent": sum(1 for r in results if not r["sent"] and 0 < r["delivered"]),
        "faults_injected": dict(faults), "faults_per_step": dict(per_step),
        "requests_per_step": {f"{s}:{t}": n for (s, t), n in sorted(chaos.requests.items())},
        "queue_and_worker_faults": pub["queue_faults"],
        "fake_server_errors": fake_errors,
        "simulated_minutes": round(pub["simulated_minutes"], 1),
        "wall_seconds": {"publisher": round(publisher_seconds, 1), "total": round(time.perf_counter() - started, 1)},
        "_bad": bad, "_final": counted["final"], "_live": counted["live"], "_steps": pub["steps"],
        "_made": pub["made"], "_chaos": chaos, "_notifies": results,
    }


def explain(result: dict[str, Any], limit: int) -> None:
    """What happened to each violating post / request: enough to reproduce it."""
    for name in MUST_BE_ZERO:
        for entry in result["_bad"].get(name, [])[:limit]:
            if isinstance(entry, str):
                item = result["_final"][("SP#" + entry, "META")]
                live = {k: v.get(entry) for k, v in result["_live"].items() if v.get(entry)}
                print(f"\n[{name}] {entry} ({result['_made'][entry]['kind']}): status={item['status']} "
                      f"lastError={(item.get('lastError') or {}).get('code')} attempts={item.get('attempts')} "
                      f"externalId={item.get('externalId')} live at the fake={live}")
                print("  at the fakes: " + " ".join(result["_chaos"].trace(entry)))
                print("  publisher:    " + " ".join(result["_steps"].get(entry, [])))
            else:
                print(f"\n[{name}] notify #{entry['n']} {entry['container']} -> {entry['phone']}: "
                      f"answers {entry['answers']}, delivered {entry['delivered']} "
                      f"({entry['distinct']} distinct) in {entry['seconds']} s")
                earlier = [f"#{r['n']} {r['container'][-2:]} {r['answers']} ended {round(entry['began'] - r['ended'], 1)} s before"
                           for r in result["_notifies"] if r["phone"] == entry["phone"] and r["n"] < entry["n"]]
                print(f"  earlier requests to this phone (container suffix): {earlier or 'none'}")
                print("  at fake Linq during this request: "
                      + " ".join(result["_chaos"].trace(entry["phone"], entry["began"], entry["ended"])))


def explain_partial(result: dict[str, Any], limit: int) -> None:
    """Requests that ended without `sent` although messages went out (not a
    must-be-0 count: the partner gave up; shown to tell why)."""
    partial = [r for r in result["_notifies"] if not r["sent"] and r["delivered"]]
    for entry in partial[:limit]:
        print(f"\n[info: ended without sent, {entry['delivered']} delivered] notify #{entry['n']} "
              f"{entry['container']} -> {entry['phone']}: answers {entry['answers']} in {entry['seconds']} s")
        print("  at fake Linq during this request: "
              + " ".join(result["_chaos"].trace(entry["phone"], entry["began"], entry["ended"])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--notifies", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--p-fault", type=float, default=0.12, help="chance that a request to a fake misbehaves")
    parser.add_argument("--same-phone-gap", type=float, default=0.0,
                        help="seconds kept between two notify requests to one phone (0: back to back)")
    parser.add_argument("--explain", type=int, default=5, help="violations shown per count")
    args = parser.parse_args()
    result = run(args.posts, args.notifies, args.seed, p_fault=args.p_fault, same_phone_gap=args.same_phone_gap)
    print(json.dumps({k: v for k, v in result.items() if not k.startswith("_")}, indent=2))
    explain(result, args.explain)
    explain_partial(result, args.explain)
    print()
    for name in MUST_BE_ZERO:
        print(f"{name.replace('_', ' ')}: {result[name]}  (must be 0)")
    print(f"failed SUBMIT_OUTCOME_UNKNOWN with a live post (counted apart): {result['failed_unknown_with_live_post']}")
    sys.exit(1 if any(result[name] for name in MUST_BE_ZERO) else 0)


if __name__ == "__main__":
    main()
