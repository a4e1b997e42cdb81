"""Shared test helpers: the default fixture's ids and keys, and an HTTP client."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = json.loads((ROOT / "local" / "seed" / "default.json").read_text())


def _key(kid: str) -> str:
    return next(k["key"] for k in FIXTURE["apiKeys"] if f"_{kid}_" in k["key"])


KEY = _key("ACMETEST00000001")            # test key, scopes *
READ_KEY = _key("ACMEREAD00000002")       # publish:read, content:read, social:read
NO_SCOPE_KEY = _key("ACMENOSCOPE00003")   # no scopes: whoami only
UNVERIFIED_KEY = _key("ACMEUNVERIFIED04")  # owner phone not verified
NO_PHONE_KEY = _key("ACMENOPHONE00005")   # owner has no phone
REVOKED_KEY = _key("ACMEREVOKED00006")
LIVE_KEY = _key("ACMELIVE00000007")
OTHER_ORG_KEY = _key("OTHERORG00000008")
WRITE_KEY = _key("ACMEWRITE0000009")      # publish:write only


def sa(n: int) -> str:
    return f"sa_55555555-5555-4555-8555-{n:012d}"


def cnt(n: int) -> str:
    return f"cnt_66666666-6666-4666-8666-{n:012d}"


def prj(n: int) -> str:
    return f"prj_33333333-3333-4333-8333-{n:012d}"


def track(n: int) -> str:
    return f"77777777-7777-4777-8777-{n:012d}"


TIKTOK = sa(1)            # connected, publish+upload, managed layer with provider
INSTAGRAM = sa(2)         # business
IG_PERSONAL = sa(3)
REAUTH = sa(4)
UPLOAD_ONLY = sa(5)
REJECTS = sa(6)
FLAKY = sa(7)             # transient:2
UNKNOWN = sa(8)           # sandbox outcome unknown
GATED_ACCOUNT = sa(9)     # project 2 (requires approval)
NO_PROVIDER = sa(10)      # managed layer without provider
IG_CREATOR = sa(11)
PRIVATE_TIKTOK = sa(12)   # sandbox creator_info offers the private set
FOREIGN = sa(99)          # other organization

VIDEO, IMAGE, SLIDESHOW, PROCESSING, REJECTED, NO_MEDIA = cnt(1), cnt(2), cnt(3), cnt(4), cnt(5), cnt(6)
PENDING, PENDING_2 = cnt(7), cnt(8)
FOREIGN_CONTAINER = cnt(99)


def future(minutes: float = 10) -> str:
    return (datetime.now(timezone.utc) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def past(minutes: float = 10) -> str:
    return (datetime.now(timezone.utc) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def code(self) -> str | None:
        return (self.body or {}).get("error", {}).get("code") if isinstance(self.body, dict) else None

    @property
    def details(self) -> dict[str, Any]:
        return self.body["error"]["details"]

    def header(self, name: str) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None


class Client:
    def __init__(self, base: str, key: str | None = KEY):
        self.base = base
        self.key = key

    def call(self, method: str, path: str, body: Any = None, *, key: str | None | bool = True,
             headers: dict[str, str] | None = None, raw: bytes | None = None) -> Reply:
        all_headers = {"Content-Type": "application/json"}
        use_key = self.key if key is True else key
        if use_key:
            all_headers["Authorization"] = f"Bearer {use_key}"
        all_headers.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, method=method, data=data, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, got_headers, text = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as err:
            status, got_headers, text = err.code, dict(err.headers), err.read()
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text.decode(errors="replace")
        return Reply(status, got_headers, parsed)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def delete(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("DELETE", path, body, **kw)

    def schedule(self, container: str, targets: list[dict[str, Any]], when: str | None = None, **kw: Any) -> Reply:
        return self.post(f"/v1/content/{container}/schedule",
                         {"scheduledFor": when or future(), "targets": targets}, **kw)


def assert_envelope(reply: Reply, status: int, code: str) -> dict[str, Any]:
    assert reply.status == status, (reply.status, reply.body)
    error = reply.body["error"]
    assert error["code"] == code, reply.body
    assert isinstance(error["message"], str) and error["message"]
    assert error["requestId"].startswith("req_")
    assert reply.header("X-Request-Id") == error["requestId"]
    assert isinstance(error["details"], dict)
    return error["details"]


# -- scheduled posts (reschedule / cancel / list tests) ---------------------------------

def schedule_posts(api: Client, targets: list[dict[str, Any]], *, container: str = VIDEO,
                   when: str | None = None) -> list[str]:
    """Schedule and return the new post ids (fails the test on anything but 200)."""
    reply = api.schedule(container, targets, when)
    assert reply.status == 200, reply.body
    return reply.body["scheduledPostIds"]


def force_post_status(stack: Any, post_id: str, status: str, **fields: Any) -> None:
    """Move a post as the publisher would (tests that need publishing/terminal
    posts without waiting for it): one UpdateItem on the stack's table."""
    from layers_shared.store import keys

    names = {"#s": "status"}
    values: dict[str, Any] = {":s": status}
    sets = ["#s = :s"]
    for i, (name, value) in enumerate(fields.items()):
        names[f"#f{i}"] = name
        values[f":f{i}"] = value
        sets.append(f"#f{i} = :f{i}")
    stack.table.update(keys.scheduled_post(post_id), "SET " + ", ".join(sets), names=names, values=values)


def project_post_rows(table: Any, project_id: str) -> list[dict[str, Any]]:
    """Every stored post of a project, straight from the table, in listing
    order: the listing index holds keys only (docs/adr/0043), the items are read behind it."""
    from layers_shared.store import keys

    listed, start = [], None
    while True:
        page, start = table.query("GSI3", "GSI3PK", keys.project_posts(project_id), start=start, forward=False)
        listed += page
        if start is None:
            break
    found = table.batch_get({"PK": k["PK"], "SK": k["SK"]} for k in listed)
    return [found[(k["PK"], k["SK"])] for k in listed if (k["PK"], k["SK"]) in found]


FAST_PUBLISHER_TIMINGS = {"PUBLISH_RETRY_BASE_SECONDS": "1", "PUBLISH_POLL_BASE_SECONDS": "1",
                          "PUBLISH_POLL_CAP_SECONDS": "1"}


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Environment variables for a (module-scoped) fixture's lifetime, restored after."""
    import pytest

    with pytest.MonkeyPatch.context() as patch:
        for name, value in values.items():
            patch.setenv(name, value)
        yield
