"""The API's routes, grouped as partners think of them.

Bodies and answers are plain dicts in the API's camelCase wire form, so a new
response field is visible at once and an SDK upgrade is never required to read
it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator, Mapping, Sequence
from urllib.parse import quote

from layers._transport import Transport

Target = Mapping[str, Any]


def _p(value: str) -> str:
    return quote(str(value), safe="")


def _instant(value: str | datetime) -> str:
    """A string is sent as given; an aware datetime as UTC `Z` (naive ones are refused here,
    as the API would refuse them)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("scheduled_for must be timezone-aware (or an ISO 8601 string with an offset)")
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value


def _pages(transport: Transport, path: str, params: dict[str, Any], key: str = "items") -> Iterator[dict[str, Any]]:
    """Every item across pages, following `nextCursor` lazily."""
    cursor: str | None = None
    while True:
        answer = transport.request("GET", path, params={**params, "cursor": cursor}).body
        yield from answer.get(key) or []
        cursor = answer.get("nextCursor")
        # Only a null cursor ends: a list reads a bounded amount per request, so a
        # page may be short or empty and still have more behind it.
        if not cursor:
            return


class Publishing:
    def __init__(self, transport: Transport):
        self._t = transport

    def schedule(self, container_id: str, scheduled_for: str | datetime, targets: Sequence[Target],
                 idempotency_key: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """`{scheduledPostIds, gateStatus, scheduledFor}`; gateStatus `blocked_on_approval`
        means the ids become rows once the container is approved. `dry_run=True`
        runs every check and writes nothing: `{dryRun, valid, gateStatus,
        scheduledFor, targets}`, or the error the real call would raise."""
        body = {"scheduledFor": _instant(scheduled_for), "targets": [dict(t) for t in targets]}
        return self._write(f"/v1/content/{_p(container_id)}/schedule", body, idempotency_key, dry_run)

    def publish_now(self, container_id: str, targets: Sequence[Target],
                    idempotency_key: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        return self._write(f"/v1/content/{_p(container_id)}/publish", {"targets": [dict(t) for t in targets]},
                           idempotency_key, dry_run)

    def _write(self, path: str, body: dict[str, Any], idempotency_key: str | None, dry_run: bool) -> dict[str, Any]:
        # A dry run writes nothing and consumes no key, so it needs none to be
        # safe to retry; it is sent only when the caller gave one.
        return self._t.request("POST", path, body=body, params={"dryRun": "true"} if dry_run else None,
                               idempotency_key=idempotency_key, auto_idempotency=not dry_run).body

    def notify_device(self, container_id: str, phone_number: str | None = None,
                      idempotency_key: str | None = None) -> dict[str, Any]:
        """Media, caption and instructions to a phone (E.164), or to the key owner's verified phone."""
        body = {"phoneNumber": phone_number} if phone_number is not None else {}
        return self._t.request("POST", f"/v1/content/{_p(container_id)}/notify-device", body=body,
                               idempotency_key=idempotency_key).body

    def get_scheduled_post(self, id: str) -> dict[str, Any]:  # noqa: A002 - the documented name
        return self._t.request("GET", f"/v1/scheduled-posts/{_p(id)}").body

    def list_scheduled_posts(self, project_id: str, status: str | Sequence[str] | None = None,
                             social_account_id: str | None = None, container_id: str | None = None,
                             from_: str | datetime | None = None, to: str | datetime | None = None,
                             limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every matching post, newest `scheduledFor` first, fetched page by page
        (`limit` is the page size). `from_` is inclusive, `to` exclusive."""
        params = {
            "status": status, "socialAccountId": social_account_id, "containerId": container_id,
            "from": _instant(from_) if from_ is not None else None,
            "to": _instant(to) if to is not None else None, "limit": limit,
        }
        return _pages(self._t, f"/v1/projects/{_p(project_id)}/scheduled-posts", params)

    def reschedule(self, id: str, scheduled_for: str | datetime,  # noqa: A002
                   idempotency_key: str | None = None) -> dict[str, Any]:
        return self._t.request("POST", f"/v1/scheduled-posts/{_p(id)}/reschedule",
                               body={"scheduledFor": _instant(scheduled_for)}, idempotency_key=idempotency_key).body

    def cancel(self, id: str, reason: str | None = None,  # noqa: A002
               idempotency_key: str | None = None) -> dict[str, Any]:
        body = {"reason": reason} if reason is not None else None
        return self._t.request("DELETE", f"/v1/scheduled-posts/{_p(id)}", body=body,
                               idempotency_key=idempotency_key).body


class Content:
    def __init__(self, transport: Transport):
        self._t = transport

    def get(self, container_id: str) -> dict[str, Any]:
        return self._t.request("GET", f"/v1/content/{_p(container_id)}").body

    def approve(self, container_id: str, note: str | None = None,
                idempotency_key: str | None = None) -> dict[str, Any]:
        """Approves and promotes a stashed schedule: see `pendingSchedulePromotion` in the answer."""
        body = {"note": note} if note is not None else {}
        return self._t.request("POST", f"/v1/content/{_p(container_id)}/approve", body=body,
                               idempotency_key=idempotency_key).body

    def reject(self, container_id: str, reason: str, idempotency_key: str | None = None) -> dict[str, Any]:
        return self._t.request("POST", f"/v1/content/{_p(container_id)}/reject", body={"reason": reason},
                               idempotency_key=idempotency_key).body


class Social:
    def __init__(self, transport: Transport):
        self._t = transport

    def list_accounts(self, project_id: str, platform: str | None = None, status: str | None = None,
                      limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every account of the project, with `publishReadiness` per mode."""
        params = {"platform": platform, "status": status, "limit": limit}
        return _pages(self._t, f"/v1/projects/{_p(project_id)}/social-accounts", params)


class Music:
    def __init__(self, transport: Transport):
        self._t = transport

    def list(self) -> dict[str, Any]:
        """`{tracks, total}`, most used first; a track's `id` goes in `tiktokMusic.trackId`."""
        return self._t.request("GET", "/v1/tiktok-music").body
